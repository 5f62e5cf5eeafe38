using System.CommandLine;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Runtime;

namespace Sluice.Cli;

/// <summary>The arguments and options several commands share, declared once each.</summary>
internal static class CommonOptions
{
    public static Argument<string> Definitions() => new("defs") { Description = "the definition file (sluice.yaml)" };

    public static Option<string[]> Resolver() => new("--resolver") { Description = "only these resolvers (repeatable)" };

    public static Option<string?> Environment() => new("--env")
    {
        Description = "the active environment: resolvers that list environments run only when it is one of them",
    };

    public static Option<string> Online() => new("--online")
    {
        Description = $"the online store: {string.Join(" or ", Defaults.Connectors.OnlineStores.Select(k => k.Usage))}", DefaultValueFactory = _ => "sqlite:.sluice/online.db",
    };

    public static Option<string?> Dedup() => new("--dedup")
    {
        Description = $"the dedup store: {string.Join(", ", Defaults.Connectors.DedupStores.Select(k => k.Usage))} "
            + "(default: beside the online store: online.dedup.db for SQLite, the same server for Redis)",
    };

    public static Option<string> Offline() => new("--offline") { Description = "the offline store's folder (Parquet)", DefaultValueFactory = _ => ".sluice/offline" };

    public static Option<string> SinkDirectory(string what) => new("--sink-dir") { Description = what, DefaultValueFactory = _ => ".sluice/sinks" };

    public static Option<string> DeadLetter(string what) => new("--dead-letter") { Description = what, DefaultValueFactory = _ => ".sluice/dead-letter.jsonl" };

    public static Option<bool> Json() => new("--json") { Description = "print the result as JSON" };

    /// <summary>The compiled definitions, or null after printing why (the caller exits 2: unusable input).</summary>
    public static CompiledDefinitions? Load(string path, Io io)
    {
        if (!File.Exists(path))
        {
            io.Err.WriteLine($"error: cannot read definition file '{path}': no such file");
            return null;
        }
        var compiled = DefinitionCompiler.CompileFile(path, Defaults.Connectors, out var errors);
        if (compiled is null)
        {
            foreach (var e in errors) io.Err.WriteLine(e);
            io.Err.WriteLine($"{errors.Count} error(s) in {path}; run 'sluice validate {path}'");
        }
        return compiled;
    }

    /// <summary>Checks a store URI against the kinds that take it; false after printing why (the password never appears).</summary>
    public static bool CheckOnline(string uri, Io io, out string display)
    {
        display = uri;
        try
        {
            display = Defaults.Connectors.OnlineStore(uri).Display(uri);
            return true;
        }
        catch (FormatException e)
        {
            io.Err.WriteLine($"error: --online: {e.Message}");
            return false;
        }
    }

    /// <summary>Checks a dedup store URI; false after printing why.</summary>
    public static bool CheckDedup(string? uri, Io io)
    {
        if (uri is null) return true;
        try
        {
            Defaults.Connectors.DedupStore(uri);
            return true;
        }
        catch (FormatException e)
        {
            io.Err.WriteLine($"error: --dedup: {e.Message}");
            return false;
        }
    }
}

/// <summary>The store options of <c>replay</c> and <c>run</c>, read into runtime options.</summary>
internal sealed class StoreOptions(string sinkDirectory, string deadLetter)
{
    public Option<string> Online { get; } = CommonOptions.Online();
    public Option<string?> Dedup { get; } = CommonOptions.Dedup();
    public Option<string> Offline { get; } = CommonOptions.Offline();
    public Option<string> SinkDirectory { get; } = CommonOptions.SinkDirectory(sinkDirectory);
    public Option<string> DeadLetter { get; } = CommonOptions.DeadLetter(deadLetter);

    public IEnumerable<Option> All => [Online, Dedup, Offline, SinkDirectory, DeadLetter];

    /// <summary>The options as given, or null after printing what is wrong with a store URI.</summary>
    public RuntimeOptions? Read(ParseResult parse, Io io)
    {
        var online = parse.GetValue(Online)!;
        var dedup = parse.GetValue(Dedup);
        if (!CommonOptions.CheckOnline(online, io, out _) || !CommonOptions.CheckDedup(dedup, io)) return null;
        return new RuntimeOptions
        {
            Online = online,
            Dedup = dedup,
            OfflineDirectory = parse.GetValue(Offline),
            SinkDirectory = parse.GetValue(SinkDirectory)!,
            DeadLetterPath = parse.GetValue(DeadLetter)!,
        };
    }
}
