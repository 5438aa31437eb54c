using System.Text.Json;
using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Core.Tests.Approvals;

/// <summary>
/// The digest an approval binds: the same arguments however a client spelled them (key order,
/// whitespace, escapes), and different arguments whenever the upstream would receive something different.
/// </summary>
public sealed class ArgumentDigestTests
{
    private static readonly ArgumentDigest Digest = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static Dictionary<string, JsonElement> Args(string json) => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    private static string Of(string json) => Digest.Compute(Args(json));

    [Theory]
    [InlineData("""{"a":1,"b":"x"}""", """{"b":"x","a":1}""")]
    [InlineData("""{"o":{"z":true,"a":[1,2]},"k":null}""", """{"k":null,"o":{"a":[1,2],"z":true}}""")]
    [InlineData("""{"deep":{"b":{"y":1,"x":2},"a":{"d":1,"c":2}}}""", """{"deep":{"a":{"c":2,"d":1},"b":{"x":2,"y":1}}}""")]
    [InlineData("""{"list":[{"b":1,"a":2}]}""", """{"list":[{"a":2,"b":1}]}""")]
    public void Key_order_does_not_matter_at_any_depth(string one, string other) => Assert.Equal(Of(one), Of(other));

    [Fact]
    public void Insignificant_whitespace_does_not_matter()
    {
        Assert.Equal(
            Of("""{"task_id":"T-100","opts":{"force":true,"tags":["a","b"]}}"""),
            Of("""
               {
                 "task_id" : "T-100" ,
                 "opts" : { "force" : true , "tags" : [ "a" ,	"b" ] }
               }
               """));
    }

    [Theory]
    [InlineData("""{"name":"A"}""", """{"name":"\u0041"}""")]
    [InlineData("""{"name":"café"}""", """{"name":"caf\u00e9"}""")]
    [InlineData("""{"name":"a/b"}""", """{"name":"a\/b"}""")]
    [InlineData("""{"name":"😀"}""", """{"name":"\ud83d\ude00"}""")]
    [InlineData("""{"é":1}""", """{"\u00e9":1}""")]
    public void Unicode_escapes_in_values_and_names_mean_the_same_string(string plain, string escaped) => Assert.Equal(Of(plain), Of(escaped));

    [Theory]
    // The upstream receives numbers as the client wrote them (the gateway forwards the JSON text), so a
    // server may well read 1.0 as a float and 1 as an integer: the approval binds the form that was approved.
    [InlineData("""{"n":1}""", """{"n":1.0}""")]
    [InlineData("""{"n":1}""", """{"n":1e0}""")]
    [InlineData("""{"n":100}""", """{"n":1E2}""")]
    [InlineData("""{"n":0}""", """{"n":-0}""")]
    [InlineData("""{"n":0.5}""", """{"n":0.50}""")]
    public void Number_forms_stay_apart_because_the_upstream_receives_them_as_written(string one, string other) => Assert.NotEqual(Of(one), Of(other));

    [Theory]
    [InlineData("""{"n":1}""", """{"n":"1"}""")]
    [InlineData("""{"b":true}""", """{"b":"true"}""")]
    [InlineData("""{"v":null}""", """{}""")]
    [InlineData("""{"l":[1,2]}""", """{"l":[2,1]}""")]
    [InlineData("""{"task_id":"T-100"}""", """{"task_id":"T-101"}""")]
    [InlineData("""{"task_id":"T-100"}""", """{"Task_id":"T-100"}""")]
    [InlineData("""{"o":{"a":1}}""", """{"o":{"a":1,"b":2}}""")]
    [InlineData("""{"s":"a b"}""", """{"s":"a  b"}""")]
    public void Different_values_types_order_of_arrays_or_names_differ(string one, string other) => Assert.NotEqual(Of(one), Of(other));

    [Fact]
    public void No_arguments_and_an_empty_object_are_the_same_call()
    {
        Assert.Equal(Digest.Compute(null), Of("{}"));
        Assert.Matches("^[0-9a-f]{64}$", Digest.Compute(null));
    }

    [Fact]
    public void Matches_compares_against_a_stored_digest_and_the_key_matters()
    {
        var arguments = Args("""{"task_id":"T-100","api_key":"sk-live"}""");
        var stored = Digest.Compute(arguments);

        Assert.True(Digest.Matches(Args("""{ "api_key": "sk-live", "task_id": "T-100" }"""), stored));
        Assert.False(Digest.Matches(Args("""{"task_id":"T-100","api_key":"sk-other"}"""), stored));
        Assert.False(Digest.Matches(arguments, stored.ToUpperInvariant()));
        Assert.NotEqual(stored, new ArgumentDigest(new byte[32]).Compute(arguments));
    }

    [Fact]
    public void A_short_key_is_refused() => Assert.Throws<ArgumentException>(() => new ArgumentDigest(new byte[31]));
}
