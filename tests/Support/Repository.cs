namespace Sluice.TestSupport;

/// <summary>Where the repository the tests run from lies: the folder holding Pipeline.sln, above the test binaries.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "Pipeline.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root (Pipeline.sln) not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository's root folder.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A path under the root, e.g. <c>Repository.Path("tools", "pubsub")</c>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
