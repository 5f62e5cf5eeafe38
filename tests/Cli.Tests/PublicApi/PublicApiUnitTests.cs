using System.Reflection;
using System.Text;
using FluentAssertions;

namespace Sluice.Cli.Tests.PublicApi;

/// <summary>
/// The public surface of the Sluice packages, listed member by member and compared with <c>PublicApi/public-api.txt</c>,
/// so that every change to it is deliberate. After an intended change: <c>SLUICE_UPDATE_PUBLIC_API=1 dotnet test --filter PublicApi</c>.
/// </summary>
public class PublicApiUnitTests
{
    private static readonly string[] Assemblies = ["Sluice.Kernels", "Sluice.Pipeline", "Sluice.Clients", "Sluice.Sources", "Sluice.Sinks", "Sluice.Hosting"];

    private static string Name(Type t)
    {
        if (t.IsGenericParameter) return t.Name;
        if (t.IsArray) return Name(t.GetElementType()!) + "[]";
        if (t.IsByRef) return Name(t.GetElementType()!) + "&";
        if (Nullable.GetUnderlyingType(t) is { } inner) return Name(inner) + "?";
        var name = t.IsNested && !t.IsGenericParameter ? Name(t.DeclaringType!) + "." + t.Name : t.Namespace + "." + t.Name;
        if (t.IsGenericType)
        {
            name = name[..name.IndexOf('`', StringComparison.Ordinal)];
            var args = t.GetGenericArguments();
            if (t.IsNested) args = args.Skip(t.DeclaringType!.GetGenericArguments().Length).ToArray();
            if (args.Length > 0) name += "<" + string.Join(", ", args.Select(Name)) + ">";
        }
        return name;
    }

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p => $"{Name(p.ParameterType)} {p.Name}"));

    internal static string Listing()
    {
        var sb = new StringBuilder();
        const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var assembly in Assemblies.Select(Assembly.Load))
        {
            sb.AppendLine($"assembly {assembly.GetName().Name}");
            foreach (var t in assembly.GetExportedTypes().OrderBy(Name, StringComparer.Ordinal))
            {
                var kind = t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? "struct" : t.IsAbstract && t.IsSealed ? "static class" : "class";
                var bases = new[] { t.BaseType }.Where(b => b is not null && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum)).Select(b => Name(b!))
                    .Concat(t.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
                sb.AppendLine($"  {kind} {Name(t)}{(bases.Any() ? " : " + string.Join(", ", bases) : "")}");
                if (t.IsEnum)
                {
                    foreach (var n in Enum.GetNames(t)) sb.AppendLine($"    {n}");
                    continue;
                }
                var members = new List<string>();
                foreach (var m in t.GetMembers(Declared))
                {
                    bool visible = m switch
                    {
                        MethodBase mb => mb.IsPublic || mb.IsFamily || mb.IsFamilyOrAssembly,
                        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
                        PropertyInfo p => (p.GetMethod ?? p.SetMethod) is { } a && (a.IsPublic || a.IsFamily),
                        EventInfo e => e.AddMethod is { IsPublic: true },
                        _ => false,
                    };
                    if (!visible) continue;
                    members.Add(m switch
                    {
                        ConstructorInfo c => $"ctor({Parameters(c)})",
                        MethodInfo mi when !mi.IsSpecialName =>
                            $"{(mi.IsStatic ? "static " : "")}{Name(mi.ReturnType)} {mi.Name}{(mi.IsGenericMethod ? "<" + string.Join(", ", mi.GetGenericArguments().Select(Name)) + ">" : "")}({Parameters(mi)})",
                        PropertyInfo p => $"{Name(p.PropertyType)} {p.Name} {{{(p.GetMethod?.IsPublic == true ? " get;" : "")}{(p.SetMethod?.IsPublic == true ? " set;" : "")} }}",
                        FieldInfo f => $"{(f.IsStatic ? "static " : "")}{(f.IsLiteral ? "const " : f.IsInitOnly ? "readonly " : "")}{Name(f.FieldType)} {f.Name}",
                        EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
                        _ => "",
                    });
                }
                foreach (var m in members.Where(m => m.Length > 0).Order(StringComparer.Ordinal)) sb.AppendLine($"    {m}");
            }
        }
        return sb.ToString();
    }

    [Fact]
    public void The_public_surface_matches_the_checked_in_listing()
    {
        var listing = Listing();
        var path = Path.Combine(AppContext.BaseDirectory, "PublicApi", "public-api.txt");
        if (Environment.GetEnvironmentVariable("SLUICE_UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(Sluice.TestSupport.Repository.Path("tests", "Cli.Tests", "PublicApi", "public-api.txt"), listing);
            return;
        }
        var expected = File.Exists(path) ? File.ReadAllText(path) : "";
        var added = listing.Split('\n').Except(expected.Split('\n')).ToList();
        var removed = expected.Split('\n').Except(listing.Split('\n')).ToList();
        (added.Count + removed.Count).Should().Be(0,
            $"the public API changed; if intended, run SLUICE_UPDATE_PUBLIC_API=1 dotnet test --filter PublicApi and commit tests/Cli.Tests/PublicApi/public-api.txt\n" +
            $"added:\n{string.Join("\n", added.Take(40))}\nremoved:\n{string.Join("\n", removed.Take(40))}");
    }
}
