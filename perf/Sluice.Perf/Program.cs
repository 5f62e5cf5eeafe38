using System.Globalization;
using BenchmarkDotNet.Running;
using Sluice.Perf;

// dotnet run -c Release --project perf/Sluice.Perf -- parse-project --messages 1000000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- proto-parse --messages 1000000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- row-resolver --messages 1000000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- kafka --messages 1000000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- pubsub --messages 200000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- kinesis --messages 100000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- redis --messages 1000000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- replay-stages --messages 1000000 [--commit-batches 32]
// dotnet run -c Release --project perf/Sluice.Perf -- soak --messages 10000000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- validate --features 90000 --json FILE
// dotnet run -c Release --project perf/Sluice.Perf -- bench [BenchmarkDotNet args, e.g. --filter '*json*']
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: Sluice.Perf parse-project [--messages N] [--batch-size N] [--json FILE]\n       Sluice.Perf proto-parse [--messages N] [--batch-size N] [--json FILE]\n       Sluice.Perf row-resolver [--messages N] [--json FILE]\n       Sluice.Perf replay [--messages N] [--json FILE] [--commit-rows N]\n       Sluice.Perf replay-stages [--messages N] [--commit-batches N]\n       Sluice.Perf kafka [--messages N] [--json FILE]\n       Sluice.Perf redis [--messages N] [--json FILE]\n       Sluice.Perf kinesis [--messages N] [--json FILE]\n       Sluice.Perf pubsub [--messages N] [--json FILE]\n       Sluice.Perf soak [--messages N] [--json FILE]\n       Sluice.Perf validate [--features N] [--json FILE]\n       Sluice.Perf bench [BenchmarkDotNet arguments]");
    return args.Length == 0 ? 2 : 0;
}

string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
int IntOption(string name, int fallback) => Option(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

switch (args[0])
{
    case "parse-project":
        return ParseProject.Run(IntOption("--messages", 1_000_000), Option("--json"), IntOption("--batch-size", 4096));
    case "proto-parse":
        return ProtoParseBenchmark.Run(IntOption("--messages", 1_000_000), Option("--json"), IntOption("--batch-size", 4096));
    case "row-resolver":
        return RowResolverBenchmark.Run(IntOption("--messages", 1_000_000), Option("--json"), IntOption("--batch-size", 4096));
    case "replay-stages":
        return await ReplayStages.RunAsync(IntOption("--messages", 1_000_000), IntOption("--commit-batches", 32));
    case "replay":
        return await ReplayBenchmark.RunAsync(IntOption("--messages", 1_000_000), Option("--json"), Option("--commit-rows") is null ? null : IntOption("--commit-rows", 0));
    case "kafka":
        return await KafkaBenchmark.RunAsync(IntOption("--messages", 1_000_000), Option("--json"));
    case "pubsub":
        return await PubSubBenchmark.RunAsync(IntOption("--messages", 200_000), Option("--json"));
    case "kinesis":
        return await KinesisBenchmark.RunAsync(IntOption("--messages", 100_000), Option("--json"));
    case "redis":
        return await RedisBenchmark.RunAsync(IntOption("--messages", 1_000_000), Option("--json"));
    case "soak":
        return await SoakBenchmark.RunAsync(IntOption("--messages", 10_000_000), Option("--json"));
    case "validate":
        return ValidateBenchmark.Run(IntOption("--features", 90_000), Option("--json"));
    case "bench":
        BenchmarkSwitcher.FromAssembly(typeof(ParseProject).Assembly).Run(args[1..]);
        return 0;
    default:
        Console.Error.WriteLine($"unknown command '{args[0]}'; try --help");
        return 2;
}
