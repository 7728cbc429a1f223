using Longshot.Tensors.Autograd;

namespace Longshot.Tensors.Optim;

/// <summary>Gradient clipping by global norm, and the NaN/Inf check for training.</summary>
public static class GradClip
{
    /// <summary>The L2 norm over all gradients in the store.</summary>
    public static double GlobalNorm(GradStore grads, IEnumerable<Tensor> parameters)
    {
        double sq = 0;
        foreach (var p in parameters)
        {
            var g = grads.Get(p);
            if (g == null) continue;
            if (g.Buffer.Memory != null)
            {
                using var _ = Tensor.NoGrad();
                sq += Ops.Sum(Ops.Square(g)).Item(); // reduced on the device, one value comes back
                continue;
            }
            foreach (var v in g.ToArray()) sq += (double)v * v;
        }
        return Math.Sqrt(sq);
    }

    /// <summary>Scales the gradients so their global norm is at most <paramref name="maxNorm"/>; returns the norm
    /// before clipping.</summary>
    public static double ClipByGlobalNorm(GradStore grads, IEnumerable<Tensor> parameters, double maxNorm)
    {
        var ps = parameters.ToList();
        double norm = GlobalNorm(grads, ps);
        if (norm > maxNorm && norm > 0)
        {
            float scale = (float)(maxNorm / (norm + 1e-6));
            using var _ = Tensor.NoGrad();
            foreach (var p in ps)
            {
                var g = grads.Get(p);
                if (g != null) grads.Set(p, Ops.MulScalar(g, scale));
            }
        }
        return norm;
    }
}

/// <summary>Detects NaN or infinite values, so a training loop can stop (or skip a step) instead of corrupting
/// weights.</summary>
public static class NumericCheck
{
    /// <summary>True when every element is finite.</summary>
    public static bool IsFinite(Tensor t)
    {
        var c = t.ToDevice(Devices.Device.Cpu).Contiguous();
        foreach (var v in c.Span) if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Names of parameters whose gradient contains NaN or Inf (empty when all are finite).</summary>
    public static List<string> NonFiniteGradients(GradStore grads,
        IEnumerable<(string Name, Tensor Param)> parameters) =>
        parameters.Where(p => grads.Get(p.Param) is { } g && !IsFinite(g)).Select(p => p.Name).ToList();

    /// <summary>Throws naming the value when a loss is NaN or infinite.</summary>
    public static void ThrowIfNotFinite(Tensor loss, long step)
    {
        if (!IsFinite(loss))
            throw new ArithmeticException($"Training diverged at step {step}: loss is {loss.ToArray()[0]}. Lower the " +
            $"learning rate or enable gradient clipping.");
    }
}
