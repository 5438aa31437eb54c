using System.Globalization;
using System.Text;

namespace ApprovalBot.Core.Policy;

/// <summary>
/// Durations as written in policy files: one or more <c>&lt;integer&gt;&lt;unit&gt;</c> parts with units
/// <c>d</c>, <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c>, largest unit first, each unit at most once:
/// <c>30s</c>, <c>15m</c>, <c>1h30m</c>, <c>2d</c>, <c>500ms</c>.
/// </summary>
public static class PolicyDuration
{
    // Units largest first; spans over constant data, so nothing static is mutable.
    private static ReadOnlySpan<long> UnitMilliseconds => [86_400_000, 3_600_000, 60_000, 1_000, 1];

    private static int UnitIndex(ReadOnlySpan<char> unit) => unit switch
    {
        "d" => 0,
        "h" => 1,
        "m" => 2,
        "s" => 3,
        "ms" => 4,
        _ => -1,
    };

    private static string UnitName(int index) => index switch
    {
        0 => "d",
        1 => "h",
        2 => "m",
        3 => "s",
        _ => "ms",
    };

    /// <summary>Parses <paramref name="text"/>; false for empty text, unknown units, wrong order or overflow.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        long total = 0;
        var nextUnit = 0; // index into the units: each part must use a smaller unit than the previous one
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start || !long.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            var unit = text.AsSpan(unitStart, i - unitStart);
            var index = UnitIndex(unit);
            if (index < nextUnit)
            {
                return false;
            }

            nextUnit = index + 1;
            try
            {
                total = checked(total + checked(amount * UnitMilliseconds[index]));
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        if (total > (long)TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(total);
        return true;
    }

    /// <summary>The shortest policy spelling of <paramref name="duration"/> (whole milliseconds), e.g. <c>1h30m</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        var remaining = (long)duration.TotalMilliseconds;
        if (remaining <= 0)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        for (var index = 0; index < UnitMilliseconds.Length; index++)
        {
            var ms = UnitMilliseconds[index];
            var amount = remaining / ms;
            if (amount > 0)
            {
                sb.Append(amount.ToString(CultureInfo.InvariantCulture)).Append(UnitName(index));
                remaining -= amount * ms;
            }
        }

        return sb.ToString();
    }
}
