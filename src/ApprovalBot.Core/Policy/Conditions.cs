using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ApprovalBot.Core.Policy;

/// <summary>Where a <c>when</c> key reads from.</summary>
internal enum ConditionSource
{
    Arguments,
    Annotations,
}

/// <summary>
/// One compiled <c>when</c> entry: a path into the arguments or annotations and a test on what it finds.
/// Property names are kept as UTF-8 so lookups do not transcode or allocate.
/// </summary>
internal sealed class Condition(string key, ConditionSource source, Condition.Segment[] path, ConditionTest test)
{
    /// <summary>The <c>when</c> key as written, e.g. <c>args.options.force</c>.</summary>
    public string Key { get; } = key;

    public bool Holds(PolicyRequest request)
    {
        var root = source == ConditionSource.Arguments ? request.Arguments : request.Annotations;
        return TryResolve(root, out var value) ? test.Test(value) : test.TestMissing();
    }

    /// <summary>Splits <c>a.b.0</c> into segments; a numeric segment can also index an array.</summary>
    public static Segment[] CompilePath(IEnumerable<string> segments) =>
        segments.Select(s => new Segment(
            Encoding.UTF8.GetBytes(s),
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1)).ToArray();

    private bool TryResolve(JsonElement? root, out JsonElement value)
    {
        value = default;
        if (root is not { } current)
        {
            return false;
        }

        foreach (var segment in path)
        {
            switch (current.ValueKind)
            {
                case JsonValueKind.Object:
                    if (!current.TryGetProperty(segment.Utf8Name, out current))
                    {
                        return false;
                    }

                    break;
                case JsonValueKind.Array:
                    if (segment.Index < 0 || segment.Index >= current.GetArrayLength())
                    {
                        return false;
                    }

                    current = current[segment.Index];
                    break;
                default:
                    return false;
            }
        }

        value = current;
        return true;
    }

    internal readonly record struct Segment(byte[] Utf8Name, int Index);
}

/// <summary>The test half of a condition. A missing value fails every test except <c>{"exists": false}</c>.</summary>
internal abstract class ConditionTest
{
    public abstract bool Test(JsonElement value);

    public virtual bool TestMissing() => false;
}

/// <summary>A JSON scalar from the policy file, detached from its document (which is disposed after parsing).</summary>
internal sealed class Scalar
{
    private readonly JsonValueKind _kind;
    private readonly string? _string;
    private readonly decimal? _decimal;
    private readonly double _double;

    private Scalar(JsonValueKind kind, string? text, decimal? number, double approximate)
    {
        _kind = kind;
        _string = text;
        _decimal = number;
        _double = approximate;
    }

    public static bool IsScalar(JsonElement element) =>
        element.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null;

    public static Scalar From(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => new Scalar(JsonValueKind.String, element.GetString(), null, 0),
        JsonValueKind.Number => new Scalar(
            JsonValueKind.Number,
            null,
            element.TryGetDecimal(out var d) ? d : null,
            element.TryGetDouble(out var f) ? f : double.NaN),
        _ => new Scalar(element.ValueKind, null, null, 0),
    };

    /// <summary>JSON equality: same type; numbers by value (1 equals 1.0); strings ordinal.</summary>
    public bool EqualsValue(JsonElement value)
    {
        if (value.ValueKind != _kind)
        {
            return false;
        }

        return _kind switch
        {
            JsonValueKind.String => value.ValueEquals(_string),
            JsonValueKind.Number => _decimal is { } expected && value.TryGetDecimal(out var actual)
                ? actual == expected
                : value.TryGetDouble(out var approximate) && approximate == _double,
            _ => true, // true, false, null: the kind is the value
        };
    }
}

/// <summary><c>"args.x": scalar</c>.</summary>
internal sealed class EqualsTest(Scalar expected) : ConditionTest
{
    public override bool Test(JsonElement value) => expected.EqualsValue(value);
}

/// <summary><c>{"in": [scalars]}</c>.</summary>
internal sealed class InTest(Scalar[] options) : ConditionTest
{
    public override bool Test(JsonElement value)
    {
        foreach (var option in options)
        {
            if (option.EqualsValue(value))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary><c>{"glob": "pattern"}</c>: string values only.</summary>
internal sealed class GlobTest(Glob glob) : ConditionTest
{
    public override bool Test(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && glob.IsMatch(value.GetString());
}

/// <summary><c>{"exists": bool}</c>: present with a non-null value.</summary>
internal sealed class ExistsTest(bool expected) : ConditionTest
{
    public override bool Test(JsonElement value) => (value.ValueKind != JsonValueKind.Null) == expected;

    public override bool TestMissing() => !expected;
}
