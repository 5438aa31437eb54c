using System.Text;

namespace ApprovalBot.Gateway.Tests.Audit;

/// <summary>
/// An RFC 4180 reader written for the tests, independent of the exporter: quoted fields may hold
/// commas, quotes ("") and line breaks; an unquoted empty field reads as null, a quoted one as "".
/// </summary>
public static class CsvReader
{
    public static List<string?[]> Parse(string text)
    {
        var rows = new List<string?[]>();
        var row = new List<string?>();
        var field = new StringBuilder();
        var quoted = false;
        var inQuotes = false;
        var i = 0;
        void EndField()
        {
            row.Add(quoted || field.Length > 0 ? field.ToString() : null);
            field.Clear();
            quoted = false;
        }

        while (i < text.Length)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i += 2;
                    continue;
                }

                if (c == '"')
                {
                    inQuotes = false;
                    i++;
                    continue;
                }

                field.Append(c);
                i++;
                continue;
            }

            switch (c)
            {
                case '"' when field.Length == 0:
                    inQuotes = true;
                    quoted = true;
                    i++;
                    break;
                case ',':
                    EndField();
                    i++;
                    break;
                case '\r' when i + 1 < text.Length && text[i + 1] == '\n':
                    EndField();
                    rows.Add(row.ToArray());
                    row.Clear();
                    i += 2;
                    break;
                default:
                    Assert.False(c is '"' or '\n' or '\r', $"unquoted {(int)c} at {i}");
                    field.Append(c);
                    i++;
                    break;
            }
        }

        Assert.False(inQuotes, "unterminated quoted field");
        Assert.True(row.Count == 0 && field.Length == 0, "the last line has no CRLF");
        return rows;
    }
}
