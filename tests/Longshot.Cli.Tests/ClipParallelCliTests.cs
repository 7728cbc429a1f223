using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>
/// `generate --scheme clips` as users run it: killed at any step it resumes from the run folder to the bytes of an
/// uninterrupted run; SIGTERM stops it cleanly; under mpirun on 2 and 3 ranks it writes the bytes of the
/// single-process run with the same clips; options of the scheme are refused with another scheme.
/// </summary>
[Collection("Processes")]
public class ClipParallelCliTests
{
    // 96 frames in 6 clips of 16, 6 steps: a few seconds per run.
    private static string[] Generate(string outPath, string? run, params string[] more) =>
        new[] { "generate", "--story", Cli.Models("demo-story.txt"), "--frames", "96", "--scheme", "clips",
            "--clip-frames", "16", "--steps", "6", "--seed", "4", "--quiet", "--out", outPath }
            .Concat(run != null ? new[] { "--run", run } : Array.Empty<string>()).Concat(more).ToArray();

    private static readonly Lazy<byte[]> Reference = new(() =>
    {
        var dir = Cli.TempDir();
        try
        {
            var (code, err) = Cli.Finish(Cli.Start(dir, Generate("ref.gif", null)));
            Assert.True(code == 0, err);
            return File.ReadAllBytes(Path.Combine(dir, "ref.gif"));
        }
        finally { Directory.Delete(dir, true); }
    });

    private static int SavedStep(string run)
    {
        var dir = Path.Combine(run, "clips");
        if (!Directory.Exists(dir)) return 0;
        return Directory.GetFiles(dir, "clip00005_step*.safetensors")
            .Select(f => int.Parse(Path.GetFileNameWithoutExtension(f)[^4..])).DefaultIfEmpty(0).Max();
    }

    [Fact]
    public void KilledAtAnyStepTheRunResumesToTheSameBytes()
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            foreach (int after in new[] { 1, 3 })
            {
                var p = Cli.Start(dir, Generate("out.gif", run));
                if (Cli.WaitFor(p, () => SavedStep(run) >= after)) Cli.Signal(p, 9);
                p.WaitForExit();
                Assert.False(File.Exists(Path.Combine(dir, "out.gif")) && p.ExitCode != 0,
                    "a killed run left an output");
            }
            Assert.InRange(SavedStep(run), 1, 6);
            var (code, err) = Cli.Finish(Cli.Start(dir, Generate("out.gif", run)));
            Assert.True(code == 0, err);
            Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
            Assert.Empty(Directory.GetFileSystemEntries(dir, "*.tmp", SearchOption.AllDirectories));
            // Only the last step stays, one file per clip.
            Assert.Equal(6, Directory.GetFiles(Path.Combine(run, "clips")).Length);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SigtermStopsEveryClipAndTheRunResumes()
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            var p = Cli.Start(dir, Generate("out.gif", run));
            Assert.True(Cli.WaitFor(p, () => SavedStep(run) >= 1), "the run ended before it could be stopped");
            Cli.Signal(p, 15);
            var (code, err) = Cli.Finish(p);
            Assert.Equal(143, code);
            Assert.Contains("cancelled", err);
            Assert.False(File.Exists(Path.Combine(dir, "out.gif")));
            var (again, err2) = Cli.Finish(Cli.Start(dir, Generate("out.gif", run)));
            Assert.True(again == 0, err2);
            Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UnderMpirunTheVideoIsTheSameAsInOneProcess(int ranks)
    {
        var dir = Cli.TempDir();
        try
        {
            if (Cli.StartMpi(dir, ranks, Generate("out.gif", null)) is not { } p) return;
            var (code, err) = Cli.Finish(p, 300);
            Assert.True(code == 0, err);
            Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("--window", "9", "shorter than the attention window")]
    [InlineData("--workers", "500", "--workers 500 is more than the 96 frames")]
    public void BadClipSettingsAreOneLineErrors(string option, string value, string message)
    {
        var dir = Cli.TempDir();
        try
        {
            var args = Generate("o.gif", null, option, value);
            if (option == "--workers") args = args.Where((a, i) => a != "--clip-frames" && (i == 0
                || args[i - 1] != "--clip-frames")).ToArray();
            else args = args.Select(a => a == "16" ? "8" : a).ToArray();
            var (code, err) = Cli.Finish(Cli.Start(dir, args));
            Assert.Equal(2, code);
            Assert.Contains(message, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ClipOptionsWithAnotherSchemeAreRefused()
    {
        var dir = Cli.TempDir();
        try
        {
            var (code, err) = Cli.Finish(Cli.Start(dir, "generate", "--story", Cli.Models("demo-story.txt"), "--out",
                "o.gif", "--frames", "40", "--clip-frames", "8"));
            Assert.Equal(2, code);
            Assert.Contains("--clip-frames applies to --scheme clips only", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
