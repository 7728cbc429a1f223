using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>Weights read in place from safetensors files in their stored type (MappedWeights, WidenedWeight,
/// SafeTensorsSet, ComponentWeights).</summary>
[Collection("Serial")]
public class MappedWeightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-mapped-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void LinearAndConvOnMappedWeightsEqualTheWidenedWeights(DType dtype)
    {
        var rng = new Rng(3);
        // Big enough to be leased (widened per op into a leased array), and a small bias that goes through the cache.
        var weights = new Dictionary<string, Tensor>
        {
            ["linear.weight"] = Tensor.Randn(rng, 640, 512), ["linear.bias"] = Tensor.Randn(rng, 640),
            ["conv.weight"] = Tensor.Randn(rng, 128, 256, 3, 3),
        };
        var path = Path.Combine(_dir, "w.safetensors");
        SafeTensors.Save(path, weights, dtype);
        var stored = SafeTensors.Load(path);   // the float32 values the file holds
        var set = SafeTensorsSet.Open(path);
        var vb = VarBuilder.Mapped(new ParameterStore(), set);
        var linear = new Linear(vb.Pp("linear"), 512, 640);
        var conv = new Conv2d(vb.Pp("conv"), 256, 128, 3, 1, 1, bias: false);
        var x = Tensor.Randn(rng, 4, 512);
        var image = Tensor.Randn(rng, 2, 256, 6, 6);
        using var _ = Tensor.NoGrad();
        Assert.Equal(Ops.Linear(x, stored["linear.weight"], stored["linear.bias"]).ToArray(),
            linear.Forward(x).ToArray());
        Assert.Equal(Ops.Conv2d(image, stored["conv.weight"], null, 1, 1).ToArray(), conv.Forward(image).ToArray());
        Assert.False(linear.Weight.Buffer.HasWidened, "a big mapped weight is leased, not kept widened");
        Assert.True(linear.Bias!.Buffer.HasWidened, "a small one is kept in the widened-copy cache");
    }

    [Fact]
    public void TheWidenedCopyCacheStaysWithinItsBudget()
    {
        long before = MappedWeights.CacheBytes;
        try
        {
            MappedWeights.Clear();
            MappedWeights.CacheBytes = 3 * 1000 * 4;
            var path = Path.Combine(_dir, "small.safetensors");
            SafeTensors.Save(path, Enumerable.Range(0, 10).ToDictionary(i => $"w{i}", i => Tensor.Full(i, 1000)),
                DType.F16);
            using var file = SafeTensorsFile.Open(path);
            var tensors = Enumerable.Range(0, 10).Select(i => file.LoadMapped($"w{i}")).ToList();
            for (int i = 0; i < 10; i++) Assert.Equal(i, tensors[i].ToArray()[999]);
            Assert.True(MappedWeights.HeldBytes <= 3 * 1000 * 4, $"{MappedWeights.HeldBytes} bytes held");
            Assert.False(tensors[0].Buffer.HasWidened);
            Assert.Equal(0f, tensors[0].ToArray()[0]);   // widened again when read after being dropped
        }
        finally
        {
            MappedWeights.CacheBytes = before;
            MappedWeights.Clear();
        }
    }

    [Fact]
    public void AnIndexJoinsShardsAndNamesWhatIsWrong()
    {
        SafeTensors.Save(Path.Combine(_dir, "m-1.safetensors"), new Dictionary<string,
            Tensor> { ["a"] = Tensor.Ones(2) });
        SafeTensors.Save(Path.Combine(_dir, "m-2.safetensors"), new Dictionary<string,
            Tensor> { ["b"] = Tensor.Ones(3) });
        var index = Path.Combine(_dir, "m.safetensors.index.json");
        File.WriteAllText(index,
            "{\"metadata\": {}, \"weight_map\": {\"a\": \"m-1.safetensors\", \"b\": \"m-2.safetensors\"}}");
        using (var set = SafeTensorsSet.Open(index))
        {
            Assert.Equal(new[] { "a", "b" }, set.Keys.Order());
            Assert.Equal(3, set.LoadMapped("b").Numel);
        }
        File.WriteAllText(index, "{\"weight_map\": {\"a\": \"m-1.safetensors\", \"c\": \"m-2.safetensors\"}}");
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsSet.Open(index));
        Assert.Contains("'c'", e.Message);
        File.WriteAllText(index, "{\"weight_map\": {\"a\": \"m-9.safetensors\"}}");
        Assert.Contains("m-9.safetensors", Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsSet.Open(index))
            .Message);
        File.WriteAllText(index, "[1, 2]");
        Assert.Contains("weight_map", Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsSet.Open(index))
            .Message);
    }

    [Fact]
    public void AComponentFolderPrefersFullPrecisionAndFallsBackToTheOnlyVariant()
    {
        var one = new Dictionary<string, Tensor> { ["a"] = Tensor.Ones(2) };
        SafeTensors.Save(Path.Combine(_dir, "diffusion_pytorch_model.fp16.safetensors"), one, DType.F16);
        Assert.EndsWith("diffusion_pytorch_model.fp16.safetensors", ComponentWeights.Find(_dir));
        SafeTensors.Save(Path.Combine(_dir, "diffusion_pytorch_model.safetensors"), one);
        Assert.EndsWith("diffusion_pytorch_model.safetensors", ComponentWeights.Find(_dir));
        Assert.EndsWith(".fp16.safetensors", ComponentWeights.Find(_dir, variant: "fp16"));
        Assert.Null(ComponentWeights.Find(_dir, variant: "bf16"));
        Assert.Contains("bf16", Assert.Throws<InputFileException>(() => ComponentWeights.Open(_dir, variant: "bf16"))
            .Message);
    }

    [Fact]
    public void AMissingOrMisshapenWeightNamesTheFile()
    {
        var path = Path.Combine(_dir, "w.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["weight"] = Tensor.Ones(3, 2) });
        using var set = SafeTensorsSet.Open(path);
        var e = Assert.Throws<LongshotException>(() => new Linear(VarBuilder.Mapped(new ParameterStore(), set), 2, 4));
        Assert.Contains(path, e.Message);
        Assert.Contains("weight", e.Message);
    }

    [Fact]
    public void AFileReachedThroughASymbolicLinkOpens()
    {
        // Hugging Face's cache: snapshots/<rev>/unet/x.safetensors -> ../../blobs/<hash>.
        var blob = Path.Combine(_dir, "blob");
        SafeTensors.Save(blob, new Dictionary<string, Tensor> { ["a"] = Tensor.Full(2f, 5) }, DType.F16);
        var link = Path.Combine(_dir, "model.safetensors");
        File.CreateSymbolicLink(link, blob);
        using var file = SafeTensorsFile.Open(link);
        Assert.Equal(2f, file.LoadMapped("a").ToArray()[4]);
    }
}
