using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;
using Longshot.Tensors.Optim;
using Xunit;

namespace Longshot.Tensors.Tests;

public class SerializationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData(DType.F32, 0f)]
    [InlineData(DType.F16, 1e-3f)]
    [InlineData(DType.BF16, 8e-3f)]
    public void SafeTensorsRoundTrip(DType dtype, float tol)
    {
        var t = Tensor.Randn(new Rng(1), 3, 5, 7);
        SafeTensors.Save(P("a.safetensors"), new Dictionary<string, Tensor> { ["w"] = t, ["b"] = Tensor.Ones(2) },
            dtype, new Dictionary<string, string> { ["note"] = "hi" });
        using var f = SafeTensorsFile.Open(P("a.safetensors"));
        Assert.Equal(dtype, f.Info("w").DType);
        Assert.Equal("hi", f.Metadata["note"]);
        TestUtil.AssertClose(t, f.Load("w"), tol, tol, "w");
        Assert.Equal(new[] { 1f, 1f }, f.Load("b").ToArray());
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        Assert.Equal(0x3F80, HalfConvert.ToBFloat16(1f));
        Assert.Equal(0x3F80, HalfConvert.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie -> even
        Assert.Equal(0x3F82, HalfConvert.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie -> even (up)
        Assert.True(float.IsNaN(HalfConvert.FromBFloat16(HalfConvert.ToBFloat16(float.NaN))));
    }

    [Fact]
    public void ANameThatIsNotUtf8NamesTheFile()
    {
        var header = System.Text.Encoding.ASCII.GetBytes(
            "{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        header[3] = 0xff; // a lone byte no UTF-8 text has
        var file = BitConverter.GetBytes((long)header.Length).Concat(header).Concat(new byte[4]).ToArray();
        File.WriteAllBytes(P("bad-name.safetensors"), file);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(P("bad-name.safetensors")));
        Assert.Contains("bad-name.safetensors", e.Message);
    }

    [Fact]
    public void TruncatedFileGivesAClearError()
    {
        SafeTensors.Save(P("t.safetensors"), new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(100) });
        var bytes = File.ReadAllBytes(P("t.safetensors"));
        File.WriteAllBytes(P("cut.safetensors"), bytes[..(bytes.Length - 40)]);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("cut.safetensors")));
        Assert.Contains("'w'", e.Message);
        File.WriteAllBytes(P("tiny.safetensors"), bytes[..5]);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("tiny.safetensors")));
        File.WriteAllBytes(P("head.safetensors"), bytes[..20]);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("head.safetensors")));
    }

    [Fact]
    public void CorruptHeaderAndUnsupportedTypesAreRejected()
    {
        void Write(string name, string json, int dataBytes)
        {
            var h = System.Text.Encoding.UTF8.GetBytes(json);
            using var s = File.Create(P(name));
            s.Write(BitConverter.GetBytes((ulong)h.Length)); s.Write(h); s.Write(new byte[dataBytes]);
        }
        Write("j.safetensors", "{not json", 0);
        Assert.Contains("JSON",
            Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("j.safetensors"))).Message);
        Write("d.safetensors", "{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        Assert.Contains("I64", Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("d.safetensors")))
            .Message);
        Write("s.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        Assert.Contains("needs 12 bytes",
            Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("s.safetensors"))).Message);
        Write("h.safetensors", "{\"x\":{\"shape\":[3]}}", 0);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(P("h.safetensors")));
    }

    [Fact]
    public void StrictLoadListsEveryMismatchAndChangesNothing()
    {
        var store = new ParameterStore();
        var vb = VarBuilder.Fresh(store, 1);
        var lin = new Linear(vb.Pp("down_blocks").Pp(0).Pp("proj"), 3, 4);
        var before = lin.Weight.ToArray();
        var file = new Dictionary<string, Tensor>
        {
            ["down_blocks.0.proj.weight"] = Tensor.Ones(4, 2),
            ["extra.weight"] = Tensor.Ones(1),
        };
        var e = Assert.Throws<StateDictMismatchException>(() => store.Load(file));
        Assert.Equal(new[] { "down_blocks.0.proj.bias" }, e.Report.Missing);
        Assert.Equal(new[] { "extra.weight" }, e.Report.Unexpected);
        Assert.Single(e.Report.Mismatched);
        Assert.Contains("[4, 2]", e.Report.Mismatched[0]);
        Assert.Equal(before, lin.Weight.ToArray());
        var report = store.Load(new Dictionary<string, Tensor> { ["down_blocks.0.proj.bias"] = Tensor.Ones(4) },
            strict: false);
        Assert.Equal(new[] { "down_blocks.0.proj.weight" }, report.Missing);
        Assert.Equal(new[] { 1f, 1f, 1f, 1f }, lin.Bias!.ToArray());
    }

    [Fact]
    public void VarBuilderLoadsByDiffusersStyleNames()
    {
        var src = new ParameterStore();
        new Conv2d(VarBuilder.Fresh(src, 3).Pp("down_blocks").Pp(0).Pp("resnets").Pp(1).Pp("conv1"), 2, 3, 3);
        Assert.Equal(new[] { "down_blocks.0.resnets.1.conv1.weight", "down_blocks.0.resnets.1.conv1.bias" },
            src.Named.Select(p => p.Name));
        src.Save(P("m.safetensors"));
        using var f = SafeTensorsFile.Open(P("m.safetensors"));
        var dst = new ParameterStore();
        var conv = new Conv2d(VarBuilder.FromSafeTensors(dst, f).Pp("down_blocks").Pp(0).Pp("resnets").Pp(1)
            .Pp("conv1"), 2, 3, 3);
        Assert.Equal(src["down_blocks.0.resnets.1.conv1.weight"].ToArray(), conv.Weight.ToArray());
        var bad = new ParameterStore();
        var e = Assert.Throws<ArgumentException>(() =>
            new Conv2d(VarBuilder.FromSafeTensors(bad, f).Pp("down_blocks").Pp(0).Pp("resnets").Pp(1).Pp("conv1"), 2,
            5, 3));
        Assert.Contains("down_blocks.0.resnets.1.conv1.weight", e.Message);
    }

    [Fact]
    public void IdentityInitsMakeLayersNoOps()
    {
        var store = new ParameterStore();
        var vb = VarBuilder.Fresh(store, 1);
        var tconv = new Conv1d(vb.Pp("t"), 4, 4, 3, padding: 1, init: Init.IdentityConv, biasInit: Init.Zeros);
        var c3 = new Conv3d(vb.Pp("a"), 4, 4, new[] { 3, 3, 3 }, padding: new[] { 1, 1, 1 }, padMode: PadMode.Reflect,
            init: Init.IdentityConv, biasInit: Init.Zeros);
        var x = Tensor.Randn(new Rng(2), 2, 4, 9);
        TestUtil.AssertClose(x, tconv.Forward(x), 1e-6f, 0, "temporal conv");
        var v = Tensor.Randn(new Rng(3), 1, 4, 5, 6, 7);
        TestUtil.AssertClose(v, c3.Forward(v), 1e-6f, 0, "3-D adapter");
    }

    /// <summary>A small network and one training step on fixed data.</summary>
    private sealed class Tiny
    {
        public readonly ParameterStore Store = new();
        public readonly Conv2d Conv;
        public readonly Linear Head;
        public readonly AdamW Opt;
        public readonly Rng Rng = new(99);
        public Tiny()
        {
            var vb = VarBuilder.Fresh(Store, 5);
            Conv = new Conv2d(vb.Pp("conv"), 2, 4, 3, padding: 1);
            Head = new Linear(vb.Pp("head"), 4 * 16, 3);
            Opt = new AdamW(Store.Trainable, 1e-2f);
        }
        public float Step()
        {
            var x = Tensor.Randn(Rng, 5, 2, 4, 4);
            var target = Tensor.Randn(Rng, 5, 3);
            var h = Ops.Silu(Conv.Forward(x)).Reshape(5, 64);
            var loss = Ops.MseLoss(Head.Forward(h), target);
            Opt.Step(loss.Backward());
            return loss.Item();
        }
    }

    [Fact]
    public void ResumingACheckpointContinuesExactly()
    {
        var straight = new Tiny();
        for (int i = 0; i < 6; i++) straight.Step();

        var first = new Tiny();
        for (int i = 0; i < 3; i++) first.Step();
        TrainingCheckpoint.Save(P("ck.safetensors"), first.Store, first.Opt, 3, first.Rng);
        var resumed = new Tiny();
        var info = TrainingCheckpoint.Load(P("ck.safetensors"), resumed.Store, resumed.Opt, resumed.Rng);
        Assert.Equal(3, info.Step);
        for (int i = 0; i < 3; i++) resumed.Step();

        foreach (var (name, t) in straight.Store.Named)
            Assert.Equal(t.ToArray(), resumed.Store[name].ToArray());
    }

    [Fact]
    public void AnInterruptedSaveLeavesThePreviousFileIntact()
    {
        var path = P("keep.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(3) });
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100]);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal(new[] { 1f, 1f, 1f }, SafeTensors.Load(path)["w"].ToArray());
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void ATinyModelOverfits()
    {
        var store = new ParameterStore();
        var vb = VarBuilder.Fresh(store, 1);
        var conv = new Conv2d(vb.Pp("c1"), 3, 8, 3, padding: 1);
        var norm = new GroupNorm(vb.Pp("n"), 2, 8);
        var conv2 = new Conv2d(vb.Pp("c2"), 8, 3, 3, padding: 1);
        var x = Tensor.Randn(new Rng(3), 2, 3, 8, 8);
        var target = Ops.Tanh(Tensor.Randn(new Rng(4), 2, 3, 8, 8));
        var opt = new AdamW(store.Trainable, 1e-2f, weightDecay: 0f);
        float first = 0, last = 0;
        for (int i = 0; i < 150; i++)
        {
            var loss = Ops.MseLoss(conv2.Forward(norm.Forward(conv.Forward(x), silu: true)), target);
            if (i == 0) first = loss.Item();
            last = loss.Item();
            opt.Step(loss.Backward());
        }
        Assert.True(last < first * 0.2f, $"loss went from {first} to {last}");
    }
}

public class TempFilesTests
{
    [Fact]
    public void OnlyTemporaryFilesOfProcessesThatAreGoneAreSwept()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-tmp-").FullName;
        try
        {
            string Name(int pid) => Path.Combine(dir, $".video.gif.{pid}.{Guid.NewGuid():N}.tmp");
            var dead = Name(4194305);                        // above Linux's largest pid_max
            var mine = Name(Environment.ProcessId);
            var other = Path.Combine(dir, ".notes.tmp");      // not ours: no PID in the name
            foreach (var f in new[] { dead, mine, other }) File.WriteAllText(f, "x");
            Directory.CreateDirectory(Name(4194306));        // a PNG folder being written by a dead process
            Assert.Equal(2, Longshot.Tensors.IO.TempFiles.Sweep(dir));
            Assert.False(File.Exists(dead));
            Assert.True(File.Exists(mine));
            Assert.True(File.Exists(other));
            Assert.StartsWith(Path.Combine(dir, ".out.gif." + Environment.ProcessId + "."),
                Longshot.Tensors.IO.TempFiles.For(Path.Combine(dir, "out.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
