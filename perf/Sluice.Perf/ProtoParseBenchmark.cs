using ProtoBuf;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Parsing;
using Sluice.Pipeline.Definitions;

namespace Sluice.Perf;

/// <summary>
/// proto-parse: the seed's protobuf User message (the seed's .proto, ContactInfo numbered 1 and 2) in memory,
/// single-threaded. Sluice (protobuf parse kernel + the seed's four output expressions over 4096-message batches)
/// against protobuf-net measured in the same run (<c>Serializer.Deserialize&lt;T&gt;</c> per message + a per-row lambda),
/// the two alternated so that the machine's slow spells fall on both.
/// </summary>
internal static class ProtoParseBenchmark
{
    private const string Proto = """
        syntax = "proto3";
        package acme;
        message User {
          enum UserType { USER_TYPE_UNSPECIFIED = 0; USER_TYPE_GUEST = 1; USER_TYPE_MEMBER = 2; }
          message ContactInfo {
            optional string phone_number = 1;
            optional string email_address = 2;
          }
          uint32 id = 1;
          string name = 2;
          UserType user_type = 3;
          optional ContactInfo contact_info = 4;
          uint64 updated_at = 5;
        }
        """;

    [ProtoContract]
    public sealed class PbContactInfo
    {
        [ProtoMember(1)] public string? PhoneNumber { get; set; }
        [ProtoMember(2)] public string? EmailAddress { get; set; }
    }

    public enum PbUserType { Unspecified = 0, Guest = 1, Member = 2 }

    [ProtoContract]
    public sealed class PbUser
    {
        [ProtoMember(1)] public uint Id { get; set; }
        [ProtoMember(2)] public string Name { get; set; } = "";
        [ProtoMember(3)] public PbUserType UserType { get; set; }
        [ProtoMember(4)] public PbContactInfo? ContactInfo { get; set; }
        [ProtoMember(5)] public ulong UpdatedAt { get; set; }
    }

    private static readonly string[] OutputExpressions =
        ["_.id", "_.name", "_.contact_info.email_address", "F.from_unix_seconds(_.updated_at / 1_000_000)"];

    private static readonly Func<PbUser, User> Project = m => new User(
        m.Id, m.Name, m.ContactInfo?.EmailAddress, DateTime.UnixEpoch.AddTicks((long)(m.UpdatedAt / 1_000_000.0 * TimeSpan.TicksPerSecond)));

    public static int Run(int messages, string? jsonPath, int batchSize = 4096)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-proto-bench-").FullName;
        File.WriteAllText(Path.Combine(dir, "user.proto"), Proto);
        var catalog = ProtoCatalog.Load([new Located<string>("user.proto", new SourceLocation("bench", 1, 1))], dir,
            (m, at) => throw new InvalidOperationException($"{at}: {m}"));
        Directory.Delete(dir, true);
        var schema = catalog.Message("acme.User", out var error) ?? throw new InvalidOperationException(error);

        Console.Error.WriteLine($"proto-parse: generating {messages:N0} User messages...");
        var payloads = Generate(messages);
        double avgBytes = payloads.Average(p => p.Length);
        var batches = UserMessages.Batches(payloads, batchSize);
        var kernel = new ProtobufParseKernel(schema);
        var outputs = OutputExpressions.Select(e => Expression.Compile(e, schema.Type)).ToArray();

        ParseProject.SluiceOnce(batches.Take(Math.Max(1, batches.Count / 10)).ToList(), kernel, outputs);
        BaselineOnce(payloads.AsSpan(0, Math.Max(1, messages / 10)).ToArray());
        var ((sluiceSeconds, sluiceAlloc), (baseSeconds, baseAlloc)) = Measure.BestOfAlternating(() => ParseProject.SluiceOnce(batches, kernel, outputs), () => BaselineOnce(payloads), 7);
        var ((parseSeconds, _), (deserializeSeconds, _)) = Measure.BestOfAlternating(() => ParseProject.SluiceOnce(batches, kernel, []), () => DeserializeOnly(payloads), 3);

        double rate = messages / sluiceSeconds, baseRate = messages / baseSeconds;
        var result = new
        {
            benchmark = $"proto_parse/user_{Math.Round(avgBytes)}B/{batchSize}",
            messages,
            msgs_per_s = Math.Round(rate),
            baseline_msgs_per_s = Math.Round(baseRate),
            ratio = Math.Round(rate / baseRate, 2),
            bytes_allocated_per_msg = Math.Round((double)sluiceAlloc / messages, 1),
            baseline_bytes_allocated_per_msg = Math.Round((double)baseAlloc / messages, 1),
            avg_message_bytes = Math.Round(avgBytes, 1),
            parse_only_msgs_per_s = Math.Round(messages / parseSeconds),
            baseline_deserialize_only_msgs_per_s = Math.Round(messages / deserializeSeconds),
        };
        Console.WriteLine($"proto-parse: {result.msgs_per_s:N0} msgs/s vs protobuf-net {result.baseline_msgs_per_s:N0} msgs/s = {result.ratio}x; " +
                          $"{result.bytes_allocated_per_msg} B/msg allocated (baseline {result.baseline_bytes_allocated_per_msg}); {result.avg_message_bytes} B/msg avg; " +
                          $"parse alone {result.parse_only_msgs_per_s:N0}, Deserialize alone {result.baseline_deserialize_only_msgs_per_s:N0} msgs/s");
        Report.Write(jsonPath, result);
        return 0;
    }

    private static byte[][] Generate(int count, int seed = 42)
    {
        string[] first = ["John", "Maria", "Wei", "Aisha", "Olga", "Pedro", "Kenji", "Fatima", "Liam", "Zoë"];
        string[] last = ["Smith", "Garcia", "Chen", "Khan", "Ivanova", "Silva", "Tanaka", "Haddad", "Murphy", "Müller"];
        var rng = new Random(seed);
        var result = new byte[count][];
        using var ms = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            var f = first[rng.Next(first.Length)];
            var l = last[rng.Next(last.Length)];
            var user = new PbUser
            {
                Id = (uint)rng.NextInt64(1, uint.MaxValue),
                Name = $"{f} {l}",
                UserType = (PbUserType)rng.Next(3),
                ContactInfo = new PbContactInfo
                {
                    PhoneNumber = $"555-{rng.Next(100, 999)}-{rng.Next(1000, 9999)}",
                    EmailAddress = rng.Next(10) == 0 ? null : $"{f.ToLowerInvariant()}.{l.ToLowerInvariant()}{rng.Next(1000)}@example.org",
                },
                UpdatedAt = (ulong)(1_700_000_000_000_000 + rng.NextInt64(0, 100_000_000_000_000)),
            };
            ms.SetLength(0);
            Serializer.Serialize(ms, user);
            result[i] = ms.ToArray();
        }
        return result;
    }

    private static long BaselineOnce(byte[][] payloads)
    {
        long check = 0;
        foreach (var p in payloads)
        {
            var u = Project(Serializer.Deserialize<PbUser>((ReadOnlySpan<byte>)p));
            check += u.UserId & 1 | 1;
        }
        return check;
    }

    private static long DeserializeOnly(byte[][] payloads)
    {
        long check = 0;
        foreach (var p in payloads) check += Serializer.Deserialize<PbUser>((ReadOnlySpan<byte>)p).Id & 1 | 1;
        return check;
    }
}
