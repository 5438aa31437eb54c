using System.Text;
using System.Text.RegularExpressions;

namespace ApprovalBot.Core.Redaction;

/// <summary>
/// Finds secrets by what they look like, wherever they appear in a string: a free-text note, a
/// header line, a URL, a config snippet. Only the secret part is replaced, so the approver still
/// reads the rest ("use Bearer [redacted] for the call"). The patterns are linear in the input (no
/// nested quantifiers); a pattern that still times out masks the whole string (fail closed).
/// </summary>
internal static partial class SecretValues
{
    private const string Mask = SecretRedactor.Mask;

    /// <summary>The built-in patterns are linear; the limit only guards a slow machine against a huge argument.</summary>
    private const int TimeoutMilliseconds = 2000;

    /// <summary>Replaces every recognised secret in <paramref name="text"/>; returns the same instance when nothing matched.</summary>
    public static string Redact(string text, Func<string, bool> isSecretName, IReadOnlyList<Regex> sitePatterns)
    {
        if (text.Length == 0)
        {
            return text;
        }

        try
        {
            var result = PrivateKeys(text);
            result = HeaderLine().Replace(result, m => m.Groups["name"].Value + m.Groups["sep"].Value + Mask);
            result = AuthScheme().Replace(result, m => m.Groups["scheme"].Value + m.Groups["space"].Value + Mask);
            result = BasicScheme().Replace(result, m => IsBasicCredential(m.Groups["credential"].Value) ? m.Groups["scheme"].Value + m.Groups["space"].Value + Mask : m.Value);
            result = Jwt().Replace(result, Mask);
            result = KnownToken().Replace(result, Mask);
            result = UrlAuthority().Replace(result, m => RedactUserInfo(m.Value));
            result = SlackWebhook().Replace(result, m => m.Groups["base"].Value + Mask);
            result = Assignment().Replace(result, m => MaskAssignment(m, isSecretName));
            foreach (var pattern in sitePatterns)
            {
                result = pattern.Replace(result, Mask);
            }

            return string.Equals(result, text, StringComparison.Ordinal) ? text : result;
        }
        catch (RegexMatchTimeoutException)
        {
            // Never throw out of redaction, never let an unchecked string through.
            return Mask;
        }
    }

    private static string MaskAssignment(Match match, Func<string, bool> isSecretName)
    {
        var value = match.Groups["value"];
        if (value.Length == 0 || IsMasked(value.Value) || !isSecretName(match.Groups["name"].Value))
        {
            return match.Value;
        }

        var start = value.Index - match.Index;
        return string.Concat(match.Value.AsSpan(0, start), Mask, match.Value.AsSpan(start + value.Length));
    }

    /// <summary>PEM private key blocks, header to footer (to the end of the text when the footer is missing).</summary>
    private static string PrivateKeys(string text)
    {
        if (!text.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (Match header in PemHeader().Matches(text))
        {
            if (header.Index < position)
            {
                continue;
            }

            builder.Append(text, position, header.Index - position).Append(Mask);
            var footer = text.IndexOf("-----END ", header.Index + header.Length, StringComparison.Ordinal);
            var close = footer < 0 ? -1 : text.IndexOf("-----", footer + 9, StringComparison.Ordinal);
            position = close < 0 ? text.Length : close + 5;
        }

        return position == 0 ? text : builder.Append(text, position, text.Length - position).ToString();
    }

    /// <summary><c>scheme://user:password@host</c> keeps the user; a long user name alone is a token used as user (<c>https://ghp_…@github.com</c>).</summary>
    private static string RedactUserInfo(string schemeAndAuthority)
    {
        var authorityStart = schemeAndAuthority.IndexOf("://", StringComparison.Ordinal) + 3;
        var at = schemeAndAuthority.LastIndexOf('@');
        if (at < authorityStart)
        {
            return schemeAndAuthority;
        }

        var userInfo = schemeAndAuthority[authorityStart..at];
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        string shown;
        if (colon >= 0)
        {
            shown = colon + 1 == userInfo.Length || IsMasked(userInfo[(colon + 1)..]) ? userInfo : userInfo[..(colon + 1)] + Mask;
        }
        else
        {
            shown = userInfo.Length >= 16 && !IsMasked(userInfo) ? Mask : userInfo;
        }

        return schemeAndAuthority[..authorityStart] + shown + schemeAndAuthority[at..];
    }

    /// <summary>Basic credentials are base64 of <c>user:password</c>; checking that keeps "Basic information" readable.</summary>
    private static bool IsBasicCredential(string credential)
    {
        var buffer = new byte[credential.Length];
        return Convert.TryFromBase64String(credential, buffer, out var written)
            && Array.IndexOf(buffer, (byte)':', 0, written) > 0;
    }

    /// <summary>Already masked by an earlier detector; value classes stop at ']', hence no closing bracket.</summary>
    private static bool IsMasked(string value) => value.Trim('"', '\'').StartsWith("[redacted", StringComparison.Ordinal);

    [GeneratedRegex(@"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,10}-----", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex PemHeader();

    /// <summary>HTTP header lines whose whole value is a credential, in pasted requests or curl commands.</summary>
    [GeneratedRegex(@"(?<name>\b(?:proxy-)?authorization|\b(?:set-)?cookie|\bx-api-key|\bx-auth-token|\bapi-key)(?<sep>[ \t]*:[ \t]*)(?!\[redacted\])[^\r\n""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex HeaderLine();

    [GeneratedRegex(@"(?<scheme>\bbearer)(?<space>[ \t]+)(?!\[redacted\])[A-Za-z0-9._~+/-]{8,}=*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex AuthScheme();

    [GeneratedRegex(@"(?<scheme>\bbasic)(?<space>[ \t]+)(?<credential>[A-Za-z0-9+/]{8,}={0,2})", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex BasicScheme();

    /// <summary>JWS (3 parts) and JWE (5 parts): a base64url JSON header starts with <c>eyJ</c>.</summary>
    [GeneratedRegex(@"\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex Jwt();

    /// <summary>
    /// Token formats with a fixed, documented prefix: AWS access key ids, GitHub, GitLab, Slack,
    /// Stripe secret/restricted/webhook keys, OpenAI and Anthropic (<c>sk-…</c>), Google API keys,
    /// npm and Hugging Face tokens.
    /// </summary>
    [GeneratedRegex(
        @"\b(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b" +
        @"|gh[pousr]_[A-Za-z0-9]{36,255}\b|github_pat_[A-Za-z0-9_]{22,255}" +
        @"|glpat-[A-Za-z0-9_-]{20,}" +
        @"|xox[abposer]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,}" +
        @"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{16,}" +
        @"|sk-[A-Za-z0-9_-]{20,}" +
        @"|AIza[0-9A-Za-z_-]{35}" +
        @"|npm_[A-Za-z0-9]{36}\b|hf_[A-Za-z0-9]{30,}\b)",
        RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex KnownToken();

    /// <summary>Scheme and authority of a URL; the user-info part is judged in code.</summary>
    [GeneratedRegex(@"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/?#""'<>]{1,512}@[^\s/?#""'<>@]{0,512}", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex UrlAuthority();

    [GeneratedRegex(@"(?<base>https://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex SlackWebhook();

    /// <summary>
    /// <c>name=value</c> and <c>name: value</c> in free text: query strings, connection strings,
    /// env files, YAML, JSON pasted into a string. The name decides, by the same rules as argument names.
    /// </summary>
    [GeneratedRegex(
        @"(?<![A-Za-z0-9_.-])[""']?(?<name>[A-Za-z][A-Za-z0-9_.-]{0,63})[""']?[ \t]*[=:][ \t]*(?:""(?<value>[^""\r\n]*)""|'(?<value>[^'\r\n]*)'|(?<value>[^\s""',;&}\])]+))",
        RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex Assignment();
}
