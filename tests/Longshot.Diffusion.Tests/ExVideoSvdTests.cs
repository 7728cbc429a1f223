using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>ExVideo's extension of Stable Video Diffusion's temporal blocks against DiffSynth-Studio
/// (Golden/svd/exvideo_block.io.safetensors): the trainable position table and the 3x3x3 reflect-padded convolution of
/// <c>TemporalAttentionBlock(add_positional_conv)</c>, every weight random, and the <c>PositionalID</c> map.</summary>
public class ExVideoSvdTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> Io =
        new(() => SafeTensors.Load(SvdUnetParityTests.Golden("exvideo_block.io.safetensors")));

    [Fact]
    public void TheExtendedTemporalBranchMatchesDiffSynthsBlock()
    {
        const int channels = 32, heads = 2, cross = 16, table = 20, frames = 12, height = 4, width = 6;
        var io = Io.Value;
        // The spatial half is not in the fixture: fresh weights for it, the fixture's for the temporal branch.
        var freshStore = new ParameterStore();
        _ = new SpatioTemporalTransformer(VarBuilder.Fresh(freshStore, 1), channels, heads, 1, cross, table);
        var weights = freshStore.StateDict();
        foreach (var (name, value) in io.Where(kv => kv.Key.StartsWith("weights.", StringComparison.Ordinal)))
        {
            string key = name["weights.".Length..];
            Assert.True(weights.ContainsKey(key), $"the block has no parameter {key}");
            weights[key] = value;
        }
        var block = new SpatioTemporalTransformer(VarBuilder.FromTensors(new ParameterStore(), weights), channels,
            heads, 1, cross, table);
        var hidden = io["hidden"];   // [T, C, H, W], one video
        var h = hidden.Permute(0, 2, 3, 1).Contiguous().Reshape(frames, height * width, channels);
        var context = io["text"].Reshape(1, 1, cross).Expand(height * width, 1, cross).Contiguous();
        Tensor mixed;
        using (Tensor.NoGrad()) mixed = block.TemporalBranch(h, 0, context, frames, height, width);
        var ours = mixed.Reshape(frames, height, width, channels).Permute(0, 3, 1, 2).Contiguous();
        SvdUnetParityTests.AssertClose(io["out"], ours, 2e-4);
    }

    [Fact]
    public void PositionIdsReflectAsDiffSynthsMap()
    {
        var expected = Io.Value["position_ids"].ToArray().Select(v => (int)v).ToArray();
        Assert.Equal(expected, ExVideoPositions.Ids(128));
    }

    [Fact]
    public void MoreFramesThanTheTableIsRefusedByName()
    {
        var block = new SpatioTemporalTransformer(VarBuilder.Fresh(new ParameterStore(), 1), 32, 2, 1, 16, 8);
        var h = Tensor.Zeros(9, 4, 32);
        var context = Tensor.Zeros(4, 1, 16);
        var e = Assert.Throws<SettingException>(() => block.TemporalBranch(h, 0, context, 9, 2, 2));
        Assert.Equal("Frames", e.Setting);
    }
}
