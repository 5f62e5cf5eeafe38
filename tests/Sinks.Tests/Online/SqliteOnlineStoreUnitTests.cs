using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Sinks.Tests.Online;

/// <summary>The embedded online store on a real SQLite file in a temp folder (no server needed).</summary>
public sealed class SqliteOnlineStoreUnitTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-online-").FullName;
    private readonly ManualClock _clock = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private SqliteOnlineStore _store = null!;
    private readonly ResolverPlan _users = DefinitionCompiler.CompileFile(Path.Combine(AppContext.BaseDirectory, "Definitions", "seed.yaml"), TestDefinitions.Connectors, out _)!
        .Resolvers.Single(r => r.Name == "get_users_stream");

    public async Task InitializeAsync() => _store = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"), _clock);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private void Write(string name, long timestampMicros, string email = "a@b.c") =>
        _store.Write([(_users, Resolve(name, timestampMicros, email))]);

    /// <summary>The feature rows of one seed UserMessage (id 123).</summary>
    private Apache.Arrow.RecordBatch Resolve(string name, long timestampMicros, string email = "a@b.c")
    {
        var b = new MessageBatch.Builder();
        b.Append("users", 0, 0, timestampMicros, null,
            Encoding.UTF8.GetBytes($$$"""{"id": 123, "name": "{{{name}}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1", "email_address": "{{{email}}}"}}"""),
            [new("X-Chalk-MessageType", "User"u8.ToArray())]);
        return new ResolverStep(_users).Process(b.Build(), timestampMicros).Features;
    }

    [Fact]
    public async Task Get_returns_the_features_keyed_by_fqn_with_iso_timestamps()
    {
        Write("John Smith", 1_700_000_000_000_000);
        var json = await _store.GetAsync(_users.Class, "123");
        json.Should().NotBeNull();
        var doc = System.Text.Json.JsonDocument.Parse(json!).RootElement;
        doc.GetProperty("user.user_id").GetInt64().Should().Be(123);
        doc.GetProperty("user.full_name").GetString().Should().Be("John Smith");
        doc.GetProperty("user.email_address").GetString().Should().Be("a@b.c");
        doc.GetProperty("user.updated_at").GetString().Should().Be("2023-11-14T22:13:20Z");
        (await _store.GetAsync(_users.Class, "999")).Should().BeNull();
    }

    [Fact]
    public async Task A_table_made_before_the_class_had_its_features_gains_their_columns_on_the_first_write()
    {
        // A file from an older definition: the class's table with its primary key only.
        var path = Path.Combine(_dir, "older.db");
        await using (var older = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await older.OpenAsync();
            await using var create = older.CreateCommand();
            create.CommandText = "CREATE TABLE \"user\" (\"user_id\" INTEGER PRIMARY KEY NOT NULL)";
            await create.ExecuteNonQueryAsync();
        }
        await using var store = await SqliteOnlineStore.OpenAsync(path, _clock);
        store.Write([(_users, Resolve("Olga Ivanova", 1_700_000_000_000_000))]);
        var doc = System.Text.Json.JsonDocument.Parse((await store.GetAsync(_users.Class, "123"))!).RootElement;
        doc.GetProperty("user.full_name").GetString().Should().Be("Olga Ivanova");
        doc.GetProperty("user.email_address").GetString().Should().Be("a@b.c");
    }

    [Fact]
    public async Task An_in_memory_store_reads_back_what_it_wrote()
    {
        // The store writes through a connection of its own; an in-memory database has only one, which both must use.
        await using var store = await SqliteOnlineStore.OpenAsync(":memory:", _clock);
        store.Write([(_users, Resolve("Wei Chen", 1_700_000_000_000_000))]);
        var doc = System.Text.Json.JsonDocument.Parse((await store.GetAsync(_users.Class, "123"))!).RootElement;
        doc.GetProperty("user.full_name").GetString().Should().Be("Wei Chen");
    }

    [Fact]
    public async Task One_group_commit_writes_its_rows_in_key_order_and_the_last_staged_of_equal_times_wins()
    {
        // One commit of several staged batches, keys out of order and repeated: rows go to SQLite sorted by key, and
        // among rows of one key with the same feature time the one staged last wins, as it would unsorted.
        var b = new MessageBatch.Builder();
        long[] ids = [50, 7, 3_000_000_000, 7, -4, 50];
        for (int i = 0; i < ids.Length; i++)
            b.Append("users", 0, i, 1_000_000, null,
                Encoding.UTF8.GetBytes($$$"""{"id": {{{ids[i]}}}, "name": "n{{{i}}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1", "email_address": null}}"""),
                [new("X-Chalk-MessageType", "User"u8.ToArray())]);
        var all = b.Build();
        // The same rows twice in one group, the second time later.
        _store.Write([(_users, new ResolverStep(_users).Process(all, 1_000_000).Features), (_users, new ResolverStep(_users).Process(all, 1_000_000).Features)]);

        async Task<string?> Name(long id) => (await _store.GetAsync(_users.Class, id.ToString(System.Globalization.CultureInfo.InvariantCulture))) is { } json
            ? System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("user.full_name").GetString() : null;
        (await Name(7)).Should().Be("n3");
        (await Name(50)).Should().Be("n5");
        (await Name(-4)).Should().Be("n4");
        (await Name(3_000_000_000)).Should().Be("n2");
    }

    [Fact]
    public async Task A_group_bound_many_rows_to_a_statement_keeps_the_newest_feature_time_of_every_key()
    {
        // Three batches of 150 rows over 40 keys with clashing and out-of-order times: several full 32-row statements,
        // repeated keys inside one statement, and a remainder written row by row. Reference: per key the row with the
        // newest feature time, the last staged among equal times.
        var random = new Random(7);
        var expected = new Dictionary<long, (long Time, string Name)>();
        var group = new List<(ResolverPlan, Apache.Arrow.RecordBatch)>();
        for (int batch = 0; batch < 3; batch++)
        {
            var b = new MessageBatch.Builder();
            for (int i = 0; i < 150; i++)
            {
                long id = random.Next(40), time = random.Next(1, 20) * 1_000_000L;
                string name = $"b{batch}r{i}";
                b.Append("users", 0, i, time, null,
                    Encoding.UTF8.GetBytes($$$"""{"id": {{{id}}}, "name": "{{{name}}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1", "email_address": null}}"""),
                    [new("X-Chalk-MessageType", "User"u8.ToArray())]);
                if (!expected.TryGetValue(id, out var held) || time >= held.Time) expected[id] = (time, name);
            }
            group.Add((_users, new ResolverStep(_users).Process(b.Build(), 20_000_000).Features));
        }
        _store.Write(group);

        foreach (var (id, (_, name)) in expected)
            System.Text.Json.JsonDocument.Parse((await _store.GetAsync(_users.Class, id.ToString(System.Globalization.CultureInfo.InvariantCulture)))!)
                .RootElement.GetProperty("user.full_name").GetString().Should().Be(name, $"user {id}");
    }

    [Fact]
    public async Task An_older_message_arriving_later_never_overwrites_a_newer_value()
    {
        Write("newer", 2_000_000);
        Write("older", 1_000_000);
        System.Text.Json.JsonDocument.Parse((await _store.GetAsync(_users.Class, "123"))!).RootElement
            .GetProperty("user.full_name").GetString().Should().Be("newer");
        Write("newest", 3_000_000);
        System.Text.Json.JsonDocument.Parse((await _store.GetAsync(_users.Class, "123"))!).RootElement
            .GetProperty("user.full_name").GetString().Should().Be("newest");
    }

    [Fact]
    public async Task Values_expire_max_staleness_after_they_were_written()
    {
        Write("John", 1_000_000); // User has max_staleness: 30d
        _clock.Now += TimeSpan.FromDays(29);
        (await _store.GetAsync(_users.Class, "123")).Should().NotBeNull();
        _clock.Now += TimeSpan.FromDays(2);
        (await _store.GetAsync(_users.Class, "123")).Should().BeNull();
    }

    [Fact]
    public async Task Every_stored_kind_reads_back_as_written_from_a_group_of_several_batches_with_string_keys()
    {
        // String keys sort per batch and across the group; each kind is bound as SQLite stores it and read back by get:
        // NaN and infinities as text, bool as 0/1, bytes as a blob (empty too), lists and structs as JSON, nulls as NULL.
        var plan = Gadgets.Plan;
        var first = Gadgets.Resolve(
            """{"sku": "z-9", "weight": "1.5", "active": true, "made": "2024-02-29", "tags": ["a", "b"], "size": {"w": 3, "h": 4}, "note": "", "blob": "xy"}""",
            """{"sku": "a-1", "weight": "NaN", "active": false, "note": "first"}""");
        var second = Gadgets.Resolve(
            """{"sku": "m-5", "weight": "-Infinity", "tags": [], "blob": ""}""",
            """{"sku": "a-1", "note": "second"}""",
            """{"sku": "n-0", "weight": "NaN"}""");
        _store.Write([(plan, first.Features), (plan, second.Features)]);

        async Task<System.Text.Json.JsonElement> Get(string sku) =>
            System.Text.Json.JsonDocument.Parse((await _store.GetAsync(plan.Class, sku))!).RootElement;
        var z = await Get("z-9");
        z.GetProperty("gadget.weight").GetDouble().Should().Be(1.5);
        z.GetProperty("gadget.active").GetBoolean().Should().BeTrue();
        z.GetProperty("gadget.blob").GetString().Should().Be(Convert.ToBase64String("xy"u8));
        z.GetProperty("gadget.made").GetString().Should().Be("2024-02-29");
        z.GetProperty("gadget.tags").GetRawText().Should().Be("""["a","b"]""");
        z.GetProperty("gadget.size").GetProperty("h").GetInt64().Should().Be(4);
        z.GetProperty("gadget.note").GetString().Should().BeEmpty();
        var a = await Get("a-1"); // written twice in the group with the same feature time: the later batch wins
        a.GetProperty("gadget.note").GetString().Should().Be("second");
        var m = await Get("m-5");
        m.GetProperty("gadget.weight").GetRawText().Should().Be("\"-inf\"");
        (await Get("n-0")).GetProperty("gadget.weight").GetRawText().Should().Be("\"nan\"");
        m.GetProperty("gadget.blob").GetString().Should().BeEmpty();
        m.GetProperty("gadget.tags").GetRawText().Should().Be("[]");
        m.GetProperty("gadget.active").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task A_group_of_batches_with_clashing_string_keys_keeps_the_newest_row_of_every_key()
    {
        // Three batches of 100 rows over string keys that share prefixes, differ in case and go beyond ASCII, merged across
        // the group by their bytes. Reference: per key the row with the newest feature time (message i of a batch is i us
        // after message 0), the later batch among equal times. The first and last batches draw the same keys in the same
        // order, so every key they share ties on time and the last batch must win it.
        string[] keys = ["a", "ab", "abc", "b", "B", "e", "é", "z-1", "z-10", "z-9"];
        var expected = new Dictionary<string, (int Index, string Note)>();
        var group = new List<(ResolverPlan, Apache.Arrow.RecordBatch)>();
        for (int batch = 0; batch < 3; batch++)
        {
            var random = new Random(batch == 1 ? 12 : 11);
            var payloads = new string[100];
            for (int i = 0; i < payloads.Length; i++)
            {
                string sku = keys[random.Next(keys.Length)], note = $"b{batch}r{i}";
                payloads[i] = $$"""{"sku": "{{sku}}", "note": "{{note}}"}""";
                if (!expected.TryGetValue(sku, out var held) || i >= held.Index) expected[sku] = (i, note);
            }
            group.Add((Gadgets.Plan, Gadgets.Resolve(payloads).Features));
        }

        _store.Write(group);

        expected.Should().HaveCount(keys.Length);
        foreach (var (sku, (_, note)) in expected)
            System.Text.Json.JsonDocument.Parse((await _store.GetAsync(Gadgets.Plan.Class, sku))!).RootElement
                .GetProperty("gadget.note").GetString().Should().Be(note, $"sku {sku}");
    }
}
