using System.Diagnostics;
using FluentAssertions;

namespace Sluice.Cli.Tests.Packaging;

/// <summary>
/// dotnet pack produces the Sluice packages, and a small consumer project builds and runs against them (restored from a
/// local feed, dependencies from the machine's NuGet cache). The sources are packed from a copy so that the running test
/// assemblies' build outputs are never touched.
/// </summary>
public sealed class PackageConsumerIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from))
            if (Path.GetFileName(d) is not ("bin" or "obj")) Copy(d, Path.Combine(to, Path.GetFileName(d)));
    }

    private static (int Code, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) p.Kill(entireProcessTree: true);
        return (p.HasExited ? p.ExitCode : -1, stdout.Result + stderr.Result);
    }

    /// <summary>The build files and the given projects under src/, copied (without bin and obj) into a folder of the test's own.</summary>
    private string CopyOfSources(string[] projects)
    {
        var root = global::Sluice.TestSupport.Repository.Root;
        var src = Path.Combine(_dir, "repo");
        Directory.CreateDirectory(src);
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "README.md" })
            File.Copy(Path.Combine(root, file), Path.Combine(src, file));
        foreach (var project in projects) Copy(Path.Combine(root, "src", project), Path.Combine(src, "src", project));
        Copy(Path.Combine(root, "build"), Path.Combine(src, "build"));
        return src;
    }

    [Fact]
    public void The_packed_packages_build_and_run_a_consumer_project()
    {
        // What an application references: Sluice.Hosting, which brings the others.
        string[] libraries = ["Kernels", "Pipeline", "Clients", "Sources", "Sinks", "Hosting"];
        var src = CopyOfSources(libraries);
        var feed = Path.Combine(_dir, "feed");
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        // Packing the top project packs nothing below it: each library is packed.
        foreach (var library in libraries)
        {
            var (packed, log) = Dotnet(src, "pack", $"src/{library}/Sluice.{library}.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            packed.Should().Be(0, log);
        }
        Directory.GetFiles(feed).Select(Path.GetFileName).Should().BeEquivalentTo(libraries.Select(l => $"Sluice.{l}.{version}.nupkg"));

        var consumer = Path.Combine(_dir, "consumer");
        Directory.CreateDirectory(consumer);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="sluice" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <fallbackPackageFolders><add key="cache" value="{cache}" /></fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RestorePackagesPath>{Path.Combine(_dir, "packages")}</RestorePackagesPath>
              </PropertyGroup>
              <ItemGroup><PackageReference Include="Sluice.Hosting" Version="{version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using Sluice;

            var users = StreamResolver.For<UserMessage>("users", Recordings.File("users.jsonl"))
                .Output(m => new User { UserId = m.Id, FullName = m.Name.ToUpper() });
            var result = await ResolverTest.RunAsync(users, [TestMessage.Text("{\"id\": 7, \"name\": \"ada\"}"), TestMessage.Text("{\"id\": \"x\"}")]);
            foreach (var m in result.Messages) Console.WriteLine($"{m.Outcome} {m.Features?["user.full_name"]}");

            [FeatureClass(MaxStaleness = "1d")]
            public sealed class User
            {
                [PrimaryKey] public long UserId { get; init; }
                public string FullName { get; init; } = "";
            }

            public sealed record UserMessage(long Id, string Name);
            """);
        var (code, output) = Dotnet(consumer, "run", "-c", "Release");
        code.Should().Be(0, output);
        output.Split('\n').Select(l => l.Trim()).Should().ContainInOrder("written ADA", "parse_failed");
    }

    [Fact]
    public void The_tool_package_installs_a_sluice_command_that_runs_the_readme_job()
    {
        var root = global::Sluice.TestSupport.Repository.Root;
        var src = CopyOfSources(["Kernels", "Pipeline", "Clients", "Sources", "Sinks", "Hosting", "Cli"]);
        var feed = Path.Combine(_dir, "feed");
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var (packed, log) = Dotnet(src, "pack", "src/Cli/Sluice.Cli.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
        packed.Should().Be(0, log);

        // As docs/getting-started.md says: dotnet tool install from the folder the package is in.
        var tools = Path.Combine(_dir, "tools");
        var (installed, installLog) = Dotnet(_dir, "tool", "install", "--tool-path", tools, "Sluice.Cli", "--add-source", feed, "--version", version);
        installed.Should().Be(0, installLog);
        var sluice = Path.Combine(tools, "sluice");

        var work = Path.Combine(_dir, "work");
        Directory.CreateDirectory(work);
        var example = Path.Combine(root, "examples", "users");
        (int Code, string Output) Sluice(params string[] args)
        {
            var psi = new ProcessStartInfo(sluice) { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) p.Kill(entireProcessTree: true);
            return (p.HasExited ? p.ExitCode : -1, stdout.Result + stderr.Result);
        }
        var (code, output) = Sluice("--version");
        code.Should().Be(0, output);
        output.Should().StartWith(version);
        // The README's main job, with the installed command.
        (code, output) = Sluice("replay", Path.Combine(example, "sluice.yaml"), Path.Combine(example, "users.jsonl"));
        code.Should().Be(0, output);
        output.Should().Contain("get_users_stream");
        (code, output) = Sluice("get", Path.Combine(example, "sluice.yaml"), "User", "123");
        code.Should().Be(0, output);
        output.Should().Contain("\"user.full_name\": \"John Smith\"");
    }
}
