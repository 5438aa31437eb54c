using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ApprovalBot.Core.Approvals;

/// <summary>
/// HMAC-SHA256 over canonical JSON (object keys sorted ordinally, no insignificant whitespace),
/// so an approval binds the exact arguments however the client spelled them.
/// </summary>
public sealed class ArgumentDigest(byte[] key)
{
    private readonly byte[] _key = key.Length >= 32 ? key : throw new ArgumentException("The digest key must be at least 32 bytes.", nameof(key));

    public string Compute(IEnumerable<KeyValuePair<string, JsonElement>>? arguments)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (arguments is not null)
            {
                foreach (var (name, value) in arguments.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(name);
                    WriteCanonical(writer, value);
                }
            }

            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, buffer.ToArray()));
    }

    public bool Matches(IEnumerable<KeyValuePair<string, JsonElement>>? arguments, string digest) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(arguments)), Encoding.ASCII.GetBytes(digest));

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}
