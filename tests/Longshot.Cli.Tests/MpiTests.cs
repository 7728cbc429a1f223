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
    public void TheDemosMp4IsTheSameUnderMpirun()
    {
        // x264's bitstream follows its thread count, which followed the cores mpirun bound a rank to.
        var dir = Cli.TempDir();
        try
        {
            bool ffmpeg = Longshot.Video.Formats.FFmpeg.IsAvailable;
            if (!ffmpeg && Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException("ffmpeg must be installed in CI (.ci/run installs it).");
            if (!ffmpeg
                || Cli.StartMpi(dir, 2, "demo", "--frames", "32", "--steps", "1", "--quiet", "--out",
                "mpi") is not { } p)
                return;
            var (code, err) = Cli.Finish(p);
            Assert.True(code == 0, err);
            Assert.Equal(0,
                Cli.Finish(Cli.Start(dir, "demo", "--frames", "32", "--steps", "1", "--quiet", "--out", "one")).Code);
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "one", "demo.mp4")),
                File.ReadAllBytes(Path.Combine(dir, "mpi", "demo.mp4")));
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
            Assert.True(Cli.WaitFor(p, () => KillAndResumeTests.Units(run) >= 2),
                "the job ended before a rank could be killed");
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
            if (Cli.StartMpi(dir, 2, "generate", "--story", Cli.Models("demo-story.txt"), "--out", "o.gif", "--scheme",
                "ar",
                    "--frames", "40") is not { } p) return;
            var (code, err) = Cli.Finish(p, 120);
            Assert.NotEqual(0, code);
            Assert.Single(err.Split('\n'), l => l.Contains("run it without mpirun"));
            Assert.DoesNotContain("   at ", err);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static string[] TrainGlobal(string data, string outDir, int steps, int batch, params string[] more) =>
        new[] { "train", "global", "--data", data, "--out", outDir, "--steps", steps.ToString(), "--batch",
            batch.ToString(),
            "--length", "4", "--depth", "2", "--channels", "32,32", "--checkpoint-every", "1", "--raw-weights",
                "--quiet" }
            .Concat(more).ToArray();

    /// <summary>|A - B| / |B - start| over every weight of two model files: the disagreement against the training's
    /// move.</summary>
    private static double Disagreement(string a, string b, string start)
    {
        var (ta, tb, t0) = (Tensors.IO.SafeTensors.Load(a), Tensors.IO.SafeTensors.Load(b),
            Tensors.IO.SafeTensors.Load(start));
        double d = 0, u = 0;
        foreach (var (k, x) in tb)
        {
            var (va, vb, v0) = (ta[k].ToArray(), x.ToArray(), t0[k].ToArray());
            for (int i = 0; i < vb.Length; i++) { d += Math.Pow(va[i] - vb[i], 2); u += Math.Pow(vb[i] - v0[i], 2); }
        }
        return Math.Sqrt(d / u);
    }

    /// <summary>A 2-episode store of 40 frames at 16 x 16 in DIR/data and an untrained tiny global model in
    /// DIR/init; returns the store's folder.</summary>
    private static string TinyDataAndInit(string dir)
    {
        var data = Path.Combine(dir, "data");
        Assert.Equal(0,
            Cli.Run("data", "toonworld", "--out", data, "--episodes", "2", "--frames", "40", "--size", "16",
            "--quiet").Code);
        Assert.Equal(0, Cli.Finish(Cli.Start(dir, TrainGlobal(data, Path.Combine(dir, "init"), 0, 2))).Code);
        return data;
    }

    [Fact]
    public void TwoRanksTrainLikeOneProcessWithTheirBatchesTogetherAndResume()
    {
        var dir = Cli.TempDir();
        try
        {
            if (!Cli.MpirunAvailable && Cli.StartMpi(dir, 2) == null) return;
            string data = TinyDataAndInit(dir), unet = Path.Combine("unet", "diffusion_pytorch_model.safetensors");
            string P(string n) => Path.Combine(dir, n, unet);
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, TrainGlobal(data, Path.Combine(dir, "one"), 3, 2))).Code);
            foreach (var zero in new[] { "0", "1", "2" })
            {
                var (code,
                    err) = Cli.Finish(Cli.StartMpi(dir, 2,
                    TrainGlobal(data, Path.Combine(dir, "z" + zero), 3, 1, "--zero", zero))!);
                Assert.True(code == 0, err);
                // Float rounding only: Adam turns rounding-level gradients of still-zero parameters into full steps,
                // which is where the 1e-3 comes from; training on other clips gives about 1.
                double gap = Disagreement(P("z" + zero), P("one"), P("init"));
                Assert.True(gap < 1e-2,
                    $"ZeRO {zero}: 2 ranks x 1 clip differ from 1 process x 2 clips by {gap:E2} of the update");
            }
            // Killed after step 2 (here: stopped there), the same job resumes from the checkpoint rank 0 wrote.
            Assert.Equal(0,
                Cli.Finish(Cli.StartMpi(dir, 2, TrainGlobal(data, Path.Combine(dir, "resumed"), 2, 1, "--zero", "2"))!)
                .Code);
            Assert.Equal(0,
                Cli.Finish(Cli.StartMpi(dir, 2, TrainGlobal(data, Path.Combine(dir, "resumed"), 3, 1, "--zero", "2"))!)
                .Code);
            Assert.Equal(File.ReadAllBytes(P("z2")), File.ReadAllBytes(P("resumed")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ExVideoPostTuningRunsDataParallelWithZero2LikeOneProcess()
    {
        var dir = Cli.TempDir();
        try
        {
            if (!Cli.MpirunAvailable && Cli.StartMpi(dir, 2) == null) return;
            string data = TinyDataAndInit(dir), unet = Path.Combine("unet", "diffusion_pytorch_model.safetensors");
            string P(string n) => Path.Combine(dir, n, unet);
            string[] Base() => new[] { "train", "base", "--data", data, "--init", Path.Combine(dir, "init"), "--out",
                Path.Combine(dir, "base"), "--length", "8", "--steps", "1", "--quiet" };
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, Base())).Code);
            string[] Extend(string outDir, int steps, int batch, params string[] more) => new[] { "train", "extend",
                "--data", data, "--base", Path.Combine(dir, "base"), "--base-length", "8", "--frames", "16", "--out",
                Path.Combine(dir, outDir), "--steps", steps.ToString(), "--batch", batch.ToString(), "--raw-weights",
                "--checkpoint-every", "1", "--quiet" }.Concat(more).ToArray();
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, Extend("start", 0, 2))).Code);
            Assert.Equal(0, Cli.Finish(Cli.Start(dir, Extend("one", 2, 2))).Code);
            var (code, err) = Cli.Finish(Cli.StartMpi(dir, 2, Extend("two", 2, 1, "--zero", "2", "--checkpointing"))!);
            Assert.True(code == 0, err);
            double gap = Disagreement(P("two"), P("one"), P("start"));
            Assert.True(gap < 1e-2, $"2 ranks x 1 clip differ from 1 process x 2 clips by {gap:E2} of the update");
        }
        finally { Directory.Delete(dir, true); }
    }
}
