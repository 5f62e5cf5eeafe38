using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// row-resolver: the seed's users resolver as expressions and as a row resolver (the @stream migration path), over the
/// same JSON batches through the same resolver step, one core, alternated in one run.
/// </summary>
internal static class RowResolverBenchmark
{
    public sealed class User
    {
        [PrimaryKey] public long UserId { get; init; }
        public string FullName { get; init; } = "";
        public string? EmailAddress { get; init; }
        public DateTime? UpdatedAt { get; init; }
    }

    public sealed record Contact(string PhoneNumber, string? EmailAddress);

    public sealed record Message(long Id, string Name, long UpdatedAt, Contact ContactInfo);

    public static int Run(int messages, string? jsonPath, int batchSize = 4096)
    {
        var source = Kafka.Topic("users", "localhost:9092");
        var expressions = StreamResolver.For<Message>("get_users_stream", source).Output(m => new User
        {
            UserId = m.Id, FullName = m.Name, EmailAddress = m.ContactInfo.EmailAddress, UpdatedAt = F.FromUnixSeconds(m.UpdatedAt / 1_000_000.0),
        });
        var rows = StreamResolver.ForRows<Message, User>("process_users", source, m => new User
        {
            UserId = m.Id, FullName = m.Name, EmailAddress = m.ContactInfo.EmailAddress,
            UpdatedAt = DateTime.UnixEpoch.AddTicks((long)Math.Round(m.UpdatedAt / 1_000_000.0 * 1_000_000) * 10),
        });
        var expressionStep = new ResolverStep(StreamResolver.Compile(TestDefinitions.Connectors, expressions).Resolvers.Single());
        var rowStep = new ResolverStep(StreamResolver.Compile(TestDefinitions.Connectors, rows).Resolvers.Single());

        Console.Error.WriteLine($"row-resolver: generating {messages:N0} UserMessage payloads...");
        var payloads = UserMessages.Generate(messages);
        var batches = new List<MessageBatch>();
        for (int i = 0; i < payloads.Length; i += batchSize)
        {
            var b = new MessageBatch.Builder();
            for (int k = i; k < Math.Min(payloads.Length, i + batchSize); k++) b.Append("users", 0, k, 1_700_000_000_000_000, null, payloads[k]);
            batches.Add(b.Build());
        }
        long Once(ResolverStep step) => batches.Sum(b => (long)step.Process(b, 1_700_000_000_000_000).Features.Length);
        Once(expressionStep);
        Once(rowStep);
        var ((exprSeconds, _), (rowSeconds, _)) = Measure.BestOfAlternating(() => Once(expressionStep), () => Once(rowStep), 3);
        var result = new
        {
            benchmark = $"row_resolver/user_{Math.Round(payloads.Average(p => p.Length))}B/{batchSize}",
            messages,
            msgs_per_s = Math.Round(messages / exprSeconds),
            row_resolver_msgs_per_s = Math.Round(messages / rowSeconds),
            ratio = Math.Round(rowSeconds / exprSeconds, 2),
        };
        Console.WriteLine($"row-resolver: expressions {result.msgs_per_s:N0} msgs/s, row resolver {result.row_resolver_msgs_per_s:N0} msgs/s: expressions {result.ratio}x faster");
        Report.Write(jsonPath, result);
        return 0;
    }
}
