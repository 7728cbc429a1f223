using System.Text.Json;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>DiffSynth-Studio's names for SVD's published UNet against its own converter
/// (Golden/svd/exvideo_names.json: names and shapes only, written by tools/make_svd_golden.py --names).</summary>
public class DiffSynthNamesTests
{
    private static readonly Lazy<JsonElement> Names = new(() => JsonDocument.Parse(
        File.ReadAllText(SvdUnetParityTests.Golden("exvideo_names.json"))).RootElement);

    [Fact]
    public void EveryConvertedNameMapsBackToItsDiffusersName()
    {
        var blocks = DiffSynthSvdNames.BlockNames(new SvdUnetConfig());
        int count = 0;
        foreach (var pair in Names.Value.GetProperty("diffsynth_to_diffusers").EnumerateObject())
        {
            Assert.Equal(pair.Value.GetString(), DiffSynthSvdNames.ToDiffusers(pair.Name, blocks));
            count++;
        }
        Assert.Equal(1428, count);
    }

    [Fact]
    public void TheExtensionsTensorsMapToTheTransformersTableAndConvolution()
    {
        var blocks = DiffSynthSvdNames.BlockNames(new SvdUnetConfig());
        var mapped = Names.Value.GetProperty("extension_shapes").EnumerateObject()
            .Select(p => DiffSynthSvdNames.ToDiffusers(p.Name, blocks)).ToList();
        Assert.Equal(112, mapped.Count);
        Assert.All(mapped, m => Assert.NotNull(m));
        Assert.Equal(16, mapped.Count(m => m!.EndsWith(".time_pos_table")));
        Assert.Equal(32, mapped.Count(m => m!.Contains(".positional_conv.")));
    }
}

/// <summary>Loading an ExVideo extension (DiffSynth names) onto a base SVD UNet.</summary>
public class ExVideoSvdExtensionTests
{
    [Fact]
    public void ThePublishedExtensionsLayoutFitsTheFullSizeUnet()
    {
        var names = JsonDocument.Parse(File.ReadAllText(SvdUnetParityTests.Golden("exvideo_names.json"))).RootElement;
        var layout = new ParameterStore();
        _ = new SvdUnet(new SvdUnetConfig { ExtensionFrames = 128 }, VarBuilder.ShapesOnly(layout));
        var blocks = DiffSynthSvdNames.BlockNames(new SvdUnetConfig());
        foreach (var p in names.GetProperty("extension_shapes").EnumerateObject())
        {
            var ours = DiffSynthSvdNames.ToDiffusers(p.Name, blocks)!;
            Assert.True(layout.Contains(ours), $"{p.Name} -> {ours} is not a parameter");
            Assert.Equal(p.Value.EnumerateArray().Select(v => v.GetInt32()), layout[ours].Shape);
        }
    }

    /// <summary>An extension as ExVideo's training starts it (tables of the reflected positions, identity
    /// convolutions) leaves the base model's output unchanged.</summary>
    [Fact]
    public void AnExtensionAtItsInitialisationChangesNothing()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-exvideo-svd-").FullName;
        var config = SvdUnetConfig.Load(SvdUnetParityTests.Golden("unet_tiny", "config.json"));
        var tensors = ExVideoSvdExtension.Initial(config, 16);
        var path = Path.Combine(dir, "model.safetensors");
        SafeTensors.Save(path, tensors, DType.F16);
        var extension = ExVideoSvdExtension.Open(path, config);
        Assert.Equal(16, extension.Frames);
        var unet = extension.Apply(config, ComponentWeights.Open(SvdUnetParityTests.Golden("unet_tiny")));
        var io = SafeTensors.Load(SvdUnetParityTests.Golden("unet_tiny.io.safetensors"));
        using var _ = Tensor.NoGrad();
        var y = unet.Forward(io["sample"], io["timestep"].ToArray()[0], io["encoder_hidden_states"],
            io["added_time_ids"]);
        SvdUnetParityTests.AssertClose(io["sample_out"], y, 2e-4);

        // A tensor of another shape is named with the file.
        tensors[tensors.Keys.First(k => k.EndsWith(".positional_conv.bias"))] = Tensor.Zeros(7);
        SafeTensors.Save(path, tensors);
        var e = Assert.Throws<InputFileException>(() => ExVideoSvdExtension.Open(path, config));
        Assert.Contains("positional_conv.bias", e.Message);
    }
}
