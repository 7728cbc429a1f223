using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>Group normalisation of x [N, C, ...] with optional affine [C]; <paramref name="silu"/> fuses the SiLU
    /// that usually follows.</summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps = 1e-5f,
        bool silu = false)
    {
        CheckGroupNorm(x, groups, gamma, beta);
        if (Devices.DeviceOps.Backend("GroupNorm", x, gamma, beta) is { } be)
            return Graph.Record(Devices.DeviceOps.GroupNorm(be, x, groups, gamma, beta, eps, silu),
                new GroupNormOp(groups, eps, silu, null), Inputs(x, gamma, beta));
        var (y, ctx) = NormKernel.GroupNormForward(x.Contiguous(), groups, gamma, beta, eps, silu);
        return Graph.Record(y, new GroupNormOp(groups, eps, silu, ctx), Inputs(x, gamma, beta));
    }

    /// <summary>
    /// Group normalisation of videos stored frame by frame: x [B*F, C, ...] with F = <paramref name="frames"/>, each
    /// video's groups normalised over all its frames, as <see cref="GroupNorm"/> of [B, C, F, ...] would. Without a
    /// graph to record, on the CPU, one pass reads the frames where they lie; otherwise the channels move ahead of the
    /// frames and back around <see cref="GroupNorm"/> (two copies of x).
    /// </summary>
    public static Tensor VideoGroupNorm(Tensor x, int frames, int groups, Tensor? gamma, Tensor? beta,
        float eps = 1e-5f, bool silu = false)
    {
        CheckGroupNorm(x, groups, gamma, beta);
        int n = x.Shape[0], c = x.Shape[1];
        if (frames < 1 || n % frames != 0)
            throw new ArgumentException($"VideoGroupNorm: {n} frames are not whole videos of {frames}.");
        if (Graph.Needed(Inputs(x, gamma, beta)) || Devices.DeviceOps.Backend("GroupNorm", x, gamma, beta) != null)
        {
            var video = x.Reshape(n / frames, frames, c, x.Numel / (n * c)).Permute(0, 2, 1, 3).Contiguous();
            var y = GroupNorm(video, groups, gamma, beta, eps, silu);
            return y.Permute(0, 2, 1, 3).Contiguous().Reshape(x.Shape);
        }
        return NormKernel.GroupNormForward(x.Contiguous(), groups, gamma, beta, eps, silu, frames).Y;
    }

    private static void CheckGroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta)
    {
        if (x.Rank < 2) throw new ArgumentException($"GroupNorm: expected [N, C, ...], got {ShapeUtil.Str(x.Shape)}.");
        int c = x.Shape[1];
        if (groups < 1 || c % groups != 0)
            throw new ArgumentException($"GroupNorm: {c} channels cannot be split into {groups} groups.");
        if ((gamma == null) != (beta == null))
            throw new ArgumentException("GroupNorm: give both weight and bias, or neither.");
        if (gamma != null && (gamma.Numel != c))
            throw new ArgumentException($"GroupNorm: weight {ShapeUtil.Str(gamma.Shape)} does not match {c} channels.");
        if (beta != null && (beta.Numel != c))
            throw new ArgumentException($"GroupNorm: bias {ShapeUtil.Str(beta.Shape)} does not match {c} channels.");
    }

    /// <summary>Layer normalisation over the last dimension with optional affine of that size.</summary>
    public static Tensor LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f)
    {
        int d = x.Shape[^1];
        if (gamma != null && gamma.Numel != d)
            throw new ArgumentException($"LayerNorm: weight {ShapeUtil.Str(gamma.Shape)} does not match last " +
            $"dimension of {ShapeUtil.Str(x.Shape)}.");
        if (beta != null && beta.Numel != d)
            throw new ArgumentException($"LayerNorm: bias {ShapeUtil.Str(beta.Shape)} does not match last dimension " +
            $"of {ShapeUtil.Str(x.Shape)}.");
        if (Devices.DeviceOps.Backend("LayerNorm", x, gamma, beta) is { } be)
            return Graph.Record(Devices.DeviceOps.LayerNorm(be, x, gamma, beta, eps),
                new LayerNormOp(eps, gamma != null, beta != null, null), Inputs(x, gamma, beta));
        var (y, ctx) = NormKernel.LayerNormForward(x, gamma, beta, eps);
        return Graph.Record(y, new LayerNormOp(eps, gamma != null, beta != null, ctx), Inputs(x, gamma, beta));
    }

    /// <summary>A norm's recorded inputs: x, then the affine parameters it has.</summary>
    private static Tensor[] Inputs(Tensor x, Tensor? gamma, Tensor? beta)
    {
        var inputs = new List<Tensor> { x };
        if (gamma != null) inputs.Add(gamma);
        if (beta != null) inputs.Add(beta);
        return inputs.ToArray();
    }
}
