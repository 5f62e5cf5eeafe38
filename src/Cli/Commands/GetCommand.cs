using System.CommandLine;
using Sluice.Pipeline.Contracts;

namespace Sluice.Cli;

/// <summary><c>sluice get &lt;defs.yaml&gt; &lt;Class&gt; &lt;primary key&gt;</c>: the online values of one entity as JSON; exit 1 when there is none.</summary>
internal static class GetCommand
{
    public static Command Create(Io io)
    {
        var defs = CommonOptions.Definitions();
        var cls = new Argument<string>("class") { Description = "the feature class, e.g. User" };
        var key = new Argument<string>("primary-key") { Description = "the entity's primary key" };
        var online = CommonOptions.Online();
        var command = new Command("get", "print the online values of one entity as JSON") { defs, online, cls, key };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(defs)!, parse.GetValue(online)!, parse.GetValue(cls)!, parse.GetValue(key)!, io, ct));
        return command;
    }

    private static async Task<int> RunAsync(string defsPath, string online, string className, string key, Io io, CancellationToken ct)
    {
        var defs = CommonOptions.Load(defsPath, io);
        if (defs is null || !CommonOptions.CheckOnline(online, io, out var display)) return CliApp.Usage;
        var cls = defs.Classes.FirstOrDefault(c => c.Name == className || c.Namespace == className);
        if (cls is null)
        {
            io.Err.WriteLine($"error: unknown feature class '{className}'; classes: {string.Join(", ", defs.Classes.Select(c => c.Name))}");
            return CliApp.Usage;
        }
        var kind = Defaults.Connectors.OnlineStore(online);
        if (!kind.Exists(online))
        {
            io.Err.WriteLine($"error: no online store at '{display}' (run sluice replay first)");
            return CliApp.Invalid;
        }
        string? json;
        // A read gives up on an unreachable server sooner than a run does.
        await using (var store = await kind.OpenAsync(online, new StoreOpenOptions { RetryFor = TimeSpan.FromSeconds(5) }, ct))
        {
            try
            {
                json = await store.GetAsync(cls, key, ct);
            }
            catch (InvalidOperationException e)
            {
                io.Err.WriteLine($"error: {e.Message}");
                return CliApp.Usage;
            }
        }
        if (json is null)
        {
            io.Err.WriteLine($"no {cls.Name} with {cls.Primary.Fqn} = {key} in {display} (never written, or expired after max_staleness)");
            return CliApp.Invalid;
        }
        io.Out.WriteLine(json);
        return CliApp.Ok;
    }
}
