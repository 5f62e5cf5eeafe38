using System.CommandLine;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Runtime;

namespace Sluice.Cli;

/// <summary>
/// The <c>sluice</c> command line: one class per command under <c>Commands/</c>, all over one runtime
/// (<see cref="PipelineRuntime"/>) and one set of kinds (<see cref="Defaults.Connectors"/>). Exit codes: 0 done; 1 the
/// answer is no (<c>validate</c> found errors, <c>get</c> found nothing); 2 wrong arguments, unreadable input, or a
/// source or store that failed, with a clear message and no stack trace; 3 a stop forced by a second signal or by
/// <c>--shutdown-timeout</c>, with what was not written left uncommitted.
/// </summary>
internal static class CliApp
{
    /// <summary>
    /// Exit codes (docs/cli.md): 0 done; 1 the answer is "no"; 2 the command line, a definition or an input file is
    /// wrong, or the run cannot start as asked; 3 a stop forced by a second signal or --shutdown-timeout; 4 a source,
    /// store or target failed while running (after its retries), nothing it did not take committed.
    /// </summary>
    public const int Ok = 0, Invalid = 1, Usage = 2, Forced = 3, Failed = 4;

    /// <summary>The command tree (docs/cli.md describes every command and option of it).</summary>
    public static RootCommand Commands(Io io) => new("Sluice: stream resolvers for .NET")
    {
        ValidateCommand.Create(io), ReplayCommand.Create(io), RunCommand.Create(io), RecordCommand.Create(io), ProfileCommand.Create(io), GetCommand.Create(io),
    };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // No command: the help, as --help prints it.
        var result = Commands(new Io(stdout, stderr)).Parse(args.Length == 0 ? ["--help"] : args);
        if (result.Errors.Count > 0)
        {
            foreach (var e in result.Errors) stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine("run 'sluice --help' for usage");
            return Usage;
        }
        try
        {
            // run and replay handle SIGTERM and Ctrl-C themselves (OperationsSession: drain, commit, --shutdown-timeout).
            bool ownStop = result.CommandResult.Command.Name is "run" or "replay";
            return result.Invoke(new InvocationConfiguration
            {
                Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = ownStop ? null : TimeSpan.FromMinutes(1),
            });
        }
        catch (Exception e) when (e is SourceException or GraphFaultException)
        {
            // A source, store or target that failed for good while running (after its retries): nothing it did not
            // take was acknowledged.
            stderr.WriteLine($"error: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or RunSetupException or RunStoppedException)
        {
            // Unreadable input (a bad line stops the run there), or a run that cannot start as asked.
            stderr.WriteLine($"error: {e.Message}");
            return Usage;
        }
    }
}

/// <summary>Where a command prints: results on stdout, progress and errors on stderr.</summary>
internal sealed record Io(TextWriter Out, TextWriter Err)
{
    /// <summary>Whether progress may be drawn: stderr is the process's own terminal and no JSON was asked for.</summary>
    public bool Interactive(bool json) => !json && !Console.IsErrorRedirected && ReferenceEquals(Err, Console.Error);
}
