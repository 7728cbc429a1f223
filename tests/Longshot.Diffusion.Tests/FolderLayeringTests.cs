using System.Text.RegularExpressions;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The folders of Longshot.Diffusion form layers without cycles: a folder uses the types of the folders below it
/// (Pipelines uses Unet, Schemes uses Pipelines, Clips and Distributed), never one that uses it back. Read from the
/// source: a folder uses a type when its code names it (as a type, not a member of the same name).
/// </summary>
public partial class FolderLayeringTests
{
    [Fact]
    public void NoTwoFoldersOfTheDiffusionLibraryUseEachOther()
    {
        var root = Path.Combine(RepoRoot(), "src", "Longshot.Diffusion");
        var files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (Folder: Path.GetRelativePath(root, Path.GetDirectoryName(f)!),
                Code: Strip(File.ReadAllText(f))))
            .ToList();
        var owner = new Dictionary<string, string>();
        foreach (var (folder, code) in files)
            foreach (Match m in Declaration().Matches(code)) owner.TryAdd(m.Groups[1].Value, folder);
        var uses = files.GroupBy(f => f.Folder).ToDictionary(g => g.Key, g => owner
            .Where(t => t.Value != g.Key && g.Any(f => Regex.IsMatch(f.Code, $@"(?<![.\w]){t.Key}\b(?!\s*\()")))
            .Select(t => t.Value).ToHashSet());
        bool Reaches(string from, string to)
        {
            var seen = new HashSet<string>();
            var todo = new Stack<string>(new[] { from });
            while (todo.Count > 0)
                foreach (var next in uses.GetValueOrDefault(todo.Pop()) ?? new HashSet<string>())
                {
                    if (next == to) return true;
                    if (seen.Add(next)) todo.Push(next);
                }
            return false;
        }
        var cycles = uses.SelectMany(u => u.Value.Where(v => Reaches(v, u.Key)).Select(v => $"{u.Key} <-> {v}"))
            .ToList();
        Assert.True(cycles.Count == 0, "folders that use each other: " + string.Join(", ", cycles));
        Assert.Contains("Pipelines", uses["Schemes"]);
    }

    /// <summary>The code without comments and string literals.</summary>
    private static string Strip(string code) => Comments().Replace(code, " ");

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Longshot.slnx"))) return d.FullName;
        throw new InvalidOperationException("the repository root (Longshot.slnx) was not found.");
    }

    [GeneratedRegex(@"\b(?:class|record|struct|interface|enum)\s+([A-Z]\w*)")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"//[^\n]*|""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex Comments();
}
