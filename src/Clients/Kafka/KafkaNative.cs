using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Sluice.Clients;

/// <summary>
/// Loads librdkafka once, before any client exists. On Linux x64 the default <c>librdkafka.so</c> of librdkafka.redist
/// needs <c>libsasl2.so.3</c>, which Debian 12 lacks, and .NET would then fall back to a system librdkafka (if any) and
/// fail with EntryPointNotFound (DESIGN.md section 8); the package's <c>centos8-librdkafka.so</c> links only what
/// Debian has, so it is loaded explicitly. Elsewhere Confluent.Kafka's own choice stands.
/// </summary>
internal static class KafkaNative
{
    private static readonly Lock Gate = new();
    private static IntPtr _handle;

    /// <summary>The native library's handle (for the mock cluster's entry points); loads it first if needed.</summary>
    public static IntPtr Handle
    {
        get
        {
            EnsureLoaded();
            return _handle;
        }
    }

    /// <summary>Loads librdkafka if this process has not yet.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return;
            var path = Candidates().FirstOrDefault(File.Exists);
            if (path is null)
            {
                _handle = NativeLibrary.Load("librdkafka", typeof(Library).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory);
                return;
            }
            _handle = NativeLibrary.Load(path);
            // Confluent.Kafka binds "librdkafka" (and, for a path given to Library.Load, "libdl", which Debian ships only
            // as libdl.so.2): both are answered here, so that the client and the mock cluster share one library.
            NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, (name, _, _) =>
                name.Contains("rdkafka", StringComparison.Ordinal) ? _handle
                : name is "libdl" or "libdl.so" && NativeLibrary.TryLoad("libdl.so.2", out var dl) ? dl
                : IntPtr.Zero);
        }
    }

    private static IEnumerable<string> Candidates()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) yield break;
        // A portable build keeps the package's runtimes/ folder; a build for linux-x64 (a published or installed tool) lays its files beside the app.
        foreach (var dir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(Library).Assembly.Location) ?? "" })
        {
            yield return Path.Combine(dir, "runtimes", "linux-x64", "native", "centos8-librdkafka.so");
            yield return Path.Combine(dir, "centos8-librdkafka.so");
        }
    }
}
