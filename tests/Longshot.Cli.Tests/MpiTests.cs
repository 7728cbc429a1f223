using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>
/// Longshot under Open MPI's mpirun, as CI runs it on two cores (--oversubscribe): the communicator's self-check on
/// 2 and 3 ranks, the same video bytes for 1, 2 and 3 ranks, and a rank killed mid-run ending the job with an error
/// (never a hang) after which the run resumes, on another number of ranks, to the same bytes. Without mpirun these
/// return at once; in CI its absence fails them.
/// </summary>
[Collection("Processes")]
public class MpiTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryCommunicatorOperationChecksOutAcrossRanks(int ranks)
    {
        var dir = Cli.TempDir();
        try
        {
            if (Cli.StartMpi(dir, ranks, "info", "--ranks") is not { } p) return;
            var (code, err) = Cli.Finish(p, 120);
            Assert.True(code == 0, err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TheVideoIsTheSameOnAnyNumberOfRanks(int ranks)
    {
        var dir = Cli.TempDir();
        try
        {
            if (Cli.StartMpi(dir, ranks, KillAndResumeTests.Generate("out.gif", null)) is not { } p) return;
            var (code, err) = Cli.Finish(p);
            Assert.True(code == 0, err);
            Assert.Equal(KillAndResumeTests.Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AKilledRankEndsTheJobAndTheRunResumesOnOtherRanks()
    {
        var dir = Cli.TempDir();
        try
        {
            var run = Path.Combine(dir, "run");
            if (Cli.StartMpi(dir, 3, KillAndResumeTests.Generate("out.gif", run)) is not { } p) return;
            Assert.True(Cli.WaitFor(p, () => KillAndResumeTests.Units(run) >= 2), "the job ended before a rank could be killed");
            var workers = Cli.ProcessesWithEnvironment("OMPI_COMM_WORLD_RANK", "1")
                .Where(pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("longshot.dll")).ToList();
            Assert.NotEmpty(workers);
            Cli.Signal(workers[0], 9);
            var (code, err) = Cli.Finish(p, 120);                 // mpirun ends the job: no hang
            Assert.NotEqual(0, code);
            Assert.False(File.Exists(Path.Combine(dir, "out.gif")));
            Assert.InRange(KillAndResumeTests.Units(run), 2, 8);
            var (again, err2) = Cli.Finish(Cli.StartMpi(dir, 2, KillAndResumeTests.Generate("out.gif", run))!);
            Assert.True(again == 0, err2);
            Assert.Equal(KillAndResumeTests.Reference.Value, File.ReadAllBytes(Path.Combine(dir, "out.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadInputUnderMpirunIsSaidOnceAndEndsTheJob()
    {
        var dir = Cli.TempDir();
        try
        {
            if (Cli.StartMpi(dir, 2, "generate", "--story", Cli.Models("demo-story.txt"), "--out", "o.gif", "--scheme", "ar",
                    "--frames", "40") is not { } p) return;
            var (code, err) = Cli.Finish(p, 120);
            Assert.NotEqual(0, code);
            Assert.Single(err.Split('\n'), l => l.Contains("run it without mpirun"));
            Assert.DoesNotContain("   at ", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
