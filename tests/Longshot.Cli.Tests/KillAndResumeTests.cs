using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>Tests that start longshot as a child process and stop it; they run alone (they use every core).</summary>
[CollectionDefinition("Processes", DisableParallelization = true)]
public class ProcessCollection;

/// <summary>
/// What survives a kill: a generation killed at any point (SIGKILL), stopped by SIGTERM or SIGINT, or resumed over a
/// damaged unit file, finishes on rerun with the bytes of an uninterrupted run; a stop leaves no partial output and
/// no temporary files; a second process on the same run folder is refused.
/// </summary>
[Collection("Processes")]
public class KillAndResumeTests
{
    private static readonly string Story = Cli.Models("demo-story.txt");

    // 121 frames with L = 16: one global unit and 8 local units, a few seconds per run.
    internal static string[] Generate(string outPath, string? run) =>
        new[] { "generate", "--story", Story, "--frames", "121", "--steps", "2", "--seed", "3", "--quiet", "--out",
            outPath }
            .Concat(run != null ? new[] { "--run", run } : Array.Empty<string>()).ToArray();

    internal static readonly Lazy<byte[]> Reference = new(() =>
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

    internal static int Units(string run) =>
        Directory.Exists(Path.Combine(run, "units")) ? Directory.GetFiles(Path.Combine(run, "units"), "*.safetensors")
            .Length : 0;

    private static void NoLeftovers(string dir) =>
        Assert.Empty(Directory.GetFileSystemEntries(dir, "*.tmp", SearchOption.AllDirectories));

    [Fact]
    public void KilledAtAnyPointTheRunResumesToTheSameBytes()
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            foreach (int after in new[] { 1, 3, 6 })
            {
                var p = Cli.Start(dir, Generate("out.gif", run));
                if (Cli.WaitFor(p, () => Units(run) >= after)) Cli.Signal(p, 9);
                p.WaitForExit();
                Assert.False(File.Exists(Path.Combine(dir, "out.gif")) && p.ExitCode != 0,
                    "a killed run left an output");
            }
            var (code, err) = Cli.Finish(Cli.Start(dir, Generate("out.gif", run)));
            Assert.True(code == 0, err);
            Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
            NoLeftovers(dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ADamagedUnitIsReportedRecomputedAndTheVideoIsTheSame()
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, Generate("a.gif", run))).Code);
            var unit = Directory.GetFiles(Path.Combine(run, "units"), "level2_unit000003.safetensors").Single();
            using (var f = new FileStream(unit, FileMode.Open)) f.SetLength(f.Length / 2);
            var (code, err) = Cli.Finish(Cli.Start(dir, Generate("t.gif", run)));
            Assert.True(code == 0, err);
            Assert.Contains("level2_unit000003", err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "t.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(15, 143)]
    [InlineData(2, 130)]
    public void SigtermAndSigintStopCleanlyAndTheRunResumes(int signal, int exitCode)
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            if (Cli.Ignores(signal))
            {
                // Started with the signal ignored (a background job's SIGINT): the CLI keeps it ignored, as Unix
                // tools do, and the run finishes undisturbed.
                var q = Cli.Start(dir, Generate("out.gif", run));
                Assert.True(Cli.WaitFor(q, () => Units(run) >= 2), "the run ended before it could be signalled");
                Cli.Signal(q, signal);
                Assert.Equal(0, Cli.Finish(q).Code);
                Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
                return;
            }
            int code = 0;
            string err = "";
            // On loaded cores the short run can finish between the check and the signal; that attempt proves
            // nothing, so it is made again (from scratch) a few times.
            for (int attempt = 0; attempt < 4 && code == 0; attempt++)
            {
                if (Directory.Exists(run)) Directory.Delete(run, true);
                File.Delete(Path.Combine(dir, "out.gif"));
                var p = Cli.Start(dir, Generate("out.gif", run));
                Assert.True(Cli.WaitFor(p, () => Units(run) >= 2), "the run ended before it could be stopped");
                Cli.Signal(p, signal);
                (code, err) = Cli.Finish(p);
            }
            Assert.Equal(exitCode, code);
            Assert.Contains("cancelled", err);
            Assert.DoesNotContain("   at ", err);
            Assert.False(File.Exists(Path.Combine(dir, "out.gif")));
            NoLeftovers(dir);
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, Generate("out.gif", run))).Code);
            Assert.Equal(Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ASecondProcessOnTheSameRunFolderIsRefused()
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            var first = Cli.Start(dir, Generate("one.gif", run));
            Assert.True(Cli.WaitFor(first, () => Units(run) >= 1), "the first run ended too soon");
            var (code, err) = Cli.Finish(Cli.Start(dir, Generate("two.gif", run)));
            Assert.Equal(2, code);
            Assert.Contains("in use", err);
            Assert.Equal(0, Cli.Finish(first).Code);
            Assert.False(File.Exists(Path.Combine(dir, "two.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TemporaryFilesOfDeadProcessesAreSweptByTheNextRun()
    {
        var dir = Cli.TempDir();
        try
        {
            // A PID that is not running (above the kernel's pid_max default) left a partial GIF and a unit.
            var stale = Path.Combine(dir, $".out.gif.4194305.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(stale, new byte[1000]);
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, Generate("out.gif", null))).Code);
            Assert.False(File.Exists(stale));
            NoLeftovers(dir);
        }
        finally { Directory.Delete(dir, true); }
    }
}
