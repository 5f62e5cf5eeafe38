using System.Text;
using System.Text.Json.Serialization;
using Apache.Arrow;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;

namespace Sluice.Perf;

/// <summary>The seed's UserMessage: schema, varied JSON payloads (~180 B), and the C# types of the naive baseline.</summary>
internal static class UserMessages
{
    public static readonly DataType Schema = DataType.StructOf("UserMessage",
    [
        new StructField("id", DataType.Int64),
        new StructField("name", DataType.String),
        new StructField("updated_at", DataType.Int64),
        new StructField("contact_info", DataType.StructOf("ContactInfo",
        [
            new StructField("phone_number", DataType.String),
            new StructField("email_address", DataType.String.WithNullable(true)),
        ])),
    ]);

    /// <summary>The seed's four output features.</summary>
    public static readonly string[] OutputExpressions =
        ["_.id", "_.name", "_.contact_info.email_address", "F.from_unix_seconds(_.updated_at / 1_000_000)"];

    private static readonly string[] First = ["John", "Maria", "Wei", "Aisha", "Olga", "Pedro", "Kenji", "Fatima", "Liam", "Zoë"];
    private static readonly string[] Last = ["Smith", "Garcia", "Chen", "Khan", "Ivanova", "Silva", "Tanaka", "Haddad", "Murphy", "Müller"];
    private static readonly string[] Domains = ["gmail.com", "example.org", "corp.acme.io", "mail.co.uk"];

    public static byte[][] Generate(int count, int seed = 42)
    {
        var rng = new Random(seed);
        var result = new byte[count][];
        var sb = new StringBuilder(256);
        for (int i = 0; i < count; i++)
        {
            var first = First[rng.Next(First.Length)];
            var last = Last[rng.Next(Last.Length)];
            long id = rng.NextInt64(1, 10_000_000_000);
            long updated = 1_700_000_000_000_000 + rng.NextInt64(0, 100_000_000_000_000);
            sb.Clear();
            sb.Append("{\"id\": ").Append(id).Append(", \"name\": \"").Append(first).Append(' ').Append(last)
              .Append("\", \"updated_at\": ").Append(updated).Append(", \"contact_info\": {\"phone_number\": \"555-")
              .Append(rng.Next(100, 999)).Append('-').Append(rng.Next(1000, 9999)).Append("\", \"email_address\": ");
            if (rng.Next(10) == 0) sb.Append("null");
            else sb.Append('"').Append(first.ToLowerInvariant()).Append('.').Append(last.ToLowerInvariant()).Append(rng.Next(1000))
                   .Append('@').Append(Domains[rng.Next(Domains.Length)]).Append('"');
            sb.Append("}}");
            result[i] = Encoding.UTF8.GetBytes(sb.ToString());
        }
        return result;
    }

    public static List<BinaryArray> Batches(byte[][] messages, int batchSize)
    {
        var batches = new List<BinaryArray>();
        for (int i = 0; i < messages.Length; i += batchSize)
            batches.Add(ParseKernel.Messages(messages.Skip(i).Take(batchSize)));
        return batches;
    }
}

/// <summary>What a user of JsonSerializer would write: the message as records.</summary>
internal sealed record ContactInfo(
    [property: JsonPropertyName("phone_number")] string PhoneNumber,
    [property: JsonPropertyName("email_address")] string? EmailAddress);

internal sealed record UserMessage(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("updated_at")] long UpdatedAt,
    [property: JsonPropertyName("contact_info")] ContactInfo ContactInfo);

internal sealed record User(long UserId, string FullName, string? EmailAddress, DateTime? UpdatedAt);
