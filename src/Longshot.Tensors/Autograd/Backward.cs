using System.Numerics.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors.Autograd;

/// <summary>Reverse-mode differentiation: the graph walk and every op's backward rule, one case per op.</summary>
internal static class Backward
{
    public static GradStore Run(Tensor root, Tensor? seed)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward: {root} does not require a gradient (no input of the " +
            $"graph requires one, or it was computed under NoGrad).");
        if (seed == null && root.Numel != 1)
            throw new InvalidOperationException($"Backward: {root} is not a scalar; pass a seed gradient of the same " +
            $"shape.");
        if (seed != null) ShapeUtil.CheckSame("Backward", root.Shape, seed.Shape);
        using var _ = GradMode.Push(false);
        var store = new GradStore();
        store.Set(root, seed ?? Tensor.Ones(root.Shape).ToDevice(root.Device));
        var order = TopologicalOrder(root);
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var node = t.Node!;
            var g = store.Take(t);
            if (g == null) continue;
            long t0 = BackwardProfiler.Start();
            Apply(node, g, store);
            BackwardProfiler.Stop(node.Kind, t0);
        }
        return store;
    }

    /// <summary>Non-leaf tensors reachable from root, inputs before outputs.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, bool Done)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, done) = stack.Pop();
            if (done) { order.Add(t); continue; }
            if (t.Node == null || !visited.Add(t)) continue;
            stack.Push((t, true));
            foreach (var inp in t.Node.Inputs)
                if (inp.RequiresGrad && inp.Node != null && !visited.Contains(inp)) stack.Push((inp, false));
        }
        return order;
    }

    /// <summary>The backend of the device a gradient is on; null on the CPU (the rule's host form applies).</summary>
    private static IDeviceBackend? Dev(Tensor g) => g.Buffer.Memory == null ? null : DeviceBackends.For(g.Device);

    /// <summary>An elementwise op's gradient: the device's kernel for device tensors, else the host loop.</summary>
    private static Tensor Unary(DeviceUnaryOp op, Tensor x, Tensor g, Elementwise.Span2Action cpu) =>
        Dev(g) is { } be ? DeviceOps.UnaryBackward(be, op, x, g) : Elementwise.Map2(x, g, cpu);

    private static void Give(GradStore store, Tensor input, Func<Tensor> grad)
    {
        if (input.RequiresGrad) store.Accumulate(input, grad());
    }

    /// <summary>An op's input, weight and bias gradients, each to its input when it has one.</summary>
    private static void GiveAll(GradStore s, Tensor[] x, Tensor? dx, Tensor? dw, Tensor? db)
    {
        if (dx != null) Give(s, x[0], () => dx);
        if (dw != null) Give(s, x[1], () => dw);
        if (db != null && x.Length > 2) Give(s, x[2], () => db);
    }

    private static void Apply(Node n, Tensor g, GradStore s)
    {
        var x = n.Inputs;
        var y = n.Output;
        switch (n.Op)
        {
            case PlainOp p:
                ApplyPlain(p.Op, x, y, g, s);
                break;
            case MulScalarOp o:
                Give(s, x[0], () => Ops.MulScalar(g, o.Factor)); break;
            case PowScalarOp o:
                Give(s, x[0], () => Ops.Mul(g, Ops.MulScalar(Ops.PowScalar(x[0], o.Exponent - 1), o.Exponent)));
                break;

            case SumOp o:
                Give(s, x[0], () => Ops.Expand(Ops.Reshape(g, Ops.ReducedShape(o.InShape, o.Dims, true)), o.InShape)
                    .Contiguous());
                break;
            case MaxOp o:
                Give(s, x[0], () =>
                {
                    int len = x[0].Shape[o.Dim];
                    var moved = new float[x[0].Numel];
                    var gc = g.Contiguous();
                    for (int i = 0; i < o.ArgMax.Length; i++) moved[i * len + o.ArgMax[i]] = gc.Storage[gc.Offset + i];
                    var shape = x[0].Shape.Where((_, i) => i != o.Dim).Append(len).ToArray();
                    return Ops.MoveFromLast(Tensor.FromArray(moved, shape), o.Dim, x[0].Rank);
                });
                break;
            case SoftmaxOp o:
                Give(s, x[0], () => Dev(g) is { } be && o.Dim == y.Rank - 1 ? DeviceOps.SoftmaxBackward(be, y, g)
                    : Ops.Mul(y, Ops.Sub(g, Ops.Sum(Ops.Mul(g, y), new[] { o.Dim }, true))));
                break;
            case LogSoftmaxOp o:
                Give(s, x[0], () => Ops.Sub(g, Ops.Mul(Ops.Exp(y), Ops.Sum(g, new[] { o.Dim }, true))));
                break;

            case ConvOp o when Dev(g) is { } be:
            {
                var (dx, dw, db) = DeviceOps.ConvBackward(be, x[0], x[1], g, o.OnDevice, x[0].RequiresGrad,
                    x[1].RequiresGrad, x.Length > 2 && x[2].RequiresGrad);
                GiveAll(s, x, dx, dw, db);
                break;
            }
            case ConvOp o:
            {
                var geo = o.Geometry;
                var xin = x[0].Contiguous(); var w = x[1].Contiguous(); var gc = g.Contiguous();
                if (gc.Offset != 0) gc = gc.Clone();
                int batch = xin.Shape[0], co = w.Shape[0];
                Give(s, x[0], () =>
                {
                    var dx = Tensor.Empty(xin.Shape);
                    ConvKernel.BackwardInput(gc.Storage, batch, geo, w.Storage, w.Offset, co, dx.Storage);
                    return dx;
                });
                Give(s, x[1],
                    () => Tensor.FromArray(ConvKernel.BackwardWeight(xin.Storage, xin.Offset, gc.Storage, batch, geo,
                    co), w.Shape));
                if (x.Length > 2) Give(s, x[2],
                    () => Tensor.FromArray(ConvKernel.BiasGradient(gc.Storage, 0, batch, co, geo.P), co));
                break;
            }
            case ConvTransposeOp o when Dev(g) is { } be:
            {
                var (dx, dw, db) = DeviceOps.ConvTransposeBackward(be, x[0], x[1], g, o.OnDevice, x[0].RequiresGrad,
                    x[1].RequiresGrad, x.Length > 2 && x[2].RequiresGrad);
                GiveAll(s, x, dx, dw, db);
                break;
            }
            case ConvTransposeOp o:
            {
                var geo = o.Geometry;
                var xin = x[0].Contiguous(); var w = x[1].Contiguous(); var gc = g.Contiguous();
                if (gc.Offset != 0) gc = gc.Clone();
                int batch = xin.Shape[0], ci = w.Shape[0];
                var dx = x[0].RequiresGrad ? Tensor.Empty(xin.Shape) : null;
                var dw = ConvKernel.TransposedBackward(xin.Storage, xin.Offset, gc.Storage, batch, ci, geo, w.Storage,
                    w.Offset, dx?.Storage, x[1].RequiresGrad);
                if (dx != null) Give(s, x[0], () => dx);
                Give(s, x[1], () => Tensor.FromArray(dw, w.Shape));
                if (x.Length > 2) Give(s, x[2],
                    () => Tensor.FromArray(ConvKernel.BiasGradient(gc.Storage, 0, batch, geo.C, geo.D * geo.H * geo.W),
                    geo.C));
                break;
            }
            case UpsampleNearestOp o:
                Give(s, x[0], () => Dev(g) is { } be ? DeviceOps.UpsampleNearestBackward(be, g, o.Factors)
                    : PoolKernel.BlockSum(g, o.Factors, 1f)); break;
            case AvgPoolOp o:
            {
                var k = o.Kernel;
                Give(s, x[0], () => Ops.MulScalar(Dev(g) != null ? Ops.UpsampleNearest(g, k)
                    : PoolKernel.Upsample(g.Contiguous(), k), 1f / (k[0] * k[1] * k[2])));
                break;
            }
            case GroupNormOp o when Dev(g) is { } be:
            {
                var gamma = x.Length > 1 ? x[1] : null; var beta = x.Length > 2 ? x[2] : null;
                var (dx, dg, db) = DeviceOps.GroupNormBackward(be, x[0], g, gamma, beta,
                    new DeviceOps.GroupNormCtx(o.Groups, o.Eps, o.Silu));
                GiveAll(s, x, dx, dg, db);
                break;
            }
            case GroupNormOp o:
            {
                var gamma = x.Length > 1 ? x[1] : null; var beta = x.Length > 2 ? x[2] : null;
                var (dx, dg, db) = NormKernel.GroupNormBackward(x[0], g, gamma, beta, HostState(o.HostStatistics, n));
                Give(s, x[0], () => dx);
                if (gamma != null) Give(s, gamma, () => Tensor.FromArray(dg!, gamma.Shape));
                if (beta != null) Give(s, beta, () => Tensor.FromArray(db!, beta.Shape));
                break;
            }
            case LayerNormOp o:
            {
                var gamma = o.HasGamma ? x[1] : null; var beta = o.HasBeta ? x[o.HasGamma ? 2 : 1] : null;
                if (Dev(g) is { } be)
                {
                    var (ddx, ddg, ddb) = DeviceOps.LayerNormBackward(be, x[0], g, gamma, beta, o.Eps);
                    Give(s, x[0], () => ddx);
                    if (gamma != null) Give(s, gamma, () => ddg!);
                    if (beta != null) Give(s, beta, () => ddb!);
                    break;
                }
                var (dx, dg, db) = NormKernel.LayerNormBackward(x[0], g, gamma, o.HasBeta,
                    HostState(o.HostStatistics, n));
                Give(s, x[0], () => dx);
                if (gamma != null) Give(s, gamma, () => Tensor.FromArray(dg!, gamma.Shape));
                if (beta != null) Give(s, beta, () => Tensor.FromArray(db!, beta.Shape));
                break;
            }
            case EmbeddingOp o:
                Give(s, x[0], () =>
                {
                    if (Dev(g) is { } be) return DeviceOps.EmbeddingBackward(be, g, o.Ids, x[0].Shape);
                    int d = x[0].Shape[1];
                    var dw = Tensor.Zeros(x[0].Shape);
                    var gc = g.Contiguous();
                    for (int i = 0; i < o.Ids.Length; i++)
                    {
                        var row = dw.Storage.AsSpan(o.Ids[i] * d, d);
                        TensorPrimitives.Add(row, gc.Storage.AsSpan(gc.Offset + i * d, d), row);
                    }
                    return dw;
                });
                break;

            case ConcatOp o:
            {
                int start = 0;
                foreach (var inp in x)
                {
                    int st = start, len = inp.Shape[o.Dim];
                    Give(s, inp, () => Ops.Narrow(g, o.Dim, st, len));
                    start += len;
                }
                break;
            }
            case NarrowOp o:
                Give(s, x[0], () =>
                {
                    if (Dev(g) is { } be) return DeviceOps.NarrowBackward(be, g, x[0].Shape, o.Dim, o.Start);
                    var z = Tensor.Zeros(x[0].Shape);
                    Ops.Narrow(z, o.Dim, o.Start, g.Shape[o.Dim]).CopyFrom(g);
                    return z;
                });
                break;
            case PadOp o:
                Give(s, x[0], () => Dev(g) is { } be ? DeviceOps.PadBackward(be, g, o.Pads, x[0].Shape)
                    : PadKernel.Backward(g, HostState(o.HostMaps, n))); break;
            case PermuteOp o:
            {
                var inv = new int[o.Order.Length];
                for (int i = 0; i < o.Order.Length; i++) inv[o.Order[i]] = i;
                Give(s, x[0], () => Ops.Permute(g, inv));
                break;
            }
            case DropoutOp o:
                Give(s, x[0], () => Ops.Mul(g, Tensor.FromArray(o.Mask, x[0].Shape)));
                break;
            case AttentionOp o when Dev(g) is { } be:
            {
                bool biasGrad = x.Length > 3 && x[3].RequiresGrad;
                var (dq, dk, dv, dScores) = DeviceOps.AttentionBackward(be, x[0], x[1], x[2],
                    x.Length > 3 ? x[3] : null, y, g, HostState(o.OnDevice, n), biasGrad);
                Give(s, x[0], () => dq);
                Give(s, x[1], () => dk);
                Give(s, x[2], () => dv);
                if (biasGrad) Give(s, x[3], () => dScores!);
                break;
            }
            case AttentionOp o:
            {
                var c = HostState(o.Host, n);
                var q = x[0].Contiguous().Detach(); var k = x[1].Contiguous().Detach(); var v = x[2].Contiguous()
                    .Detach();
                var gc = g.Contiguous();
                var dq = new float[q.Numel]; var dk = new float[k.Numel]; var dv = new float[v.Numel];
                bool biasGrad = x.Length > 3 && x[3].RequiresGrad;
                var dBias = biasGrad ? new float[c.B * c.H * c.Lq * c.Lk] : null;
                FlashAttention.Backward(q, k, v, y.Contiguous().ToArray(), gc, c, dq, dk, dv, dBias);
                Give(s, x[0], () => Tensor.FromArray(dq, q.Shape));
                Give(s, x[1], () => Tensor.FromArray(dk, k.Shape));
                Give(s, x[2], () => Tensor.FromArray(dv, v.Shape));
                if (biasGrad) Give(s, x[3], () => Tensor.FromArray(dBias!, c.B, c.H, c.Lq, c.Lk));
                break;
            }
            case CheckpointOp o:
                o.Backward(g, s);
                break;
            default:
                throw new NotSupportedException($"Backward: no rule for {n.Kind}.");
        }
    }

    /// <summary>The rules of ops that keep nothing but their inputs and output.</summary>
    private static void ApplyPlain(OpKind kind, Tensor[] x, Tensor y, Tensor g, GradStore s)
    {
        switch (kind)
        {
            case OpKind.Add:
                Give(s, x[0], () => g); Give(s, x[1], () => g); break;
            case OpKind.Sub:
                Give(s, x[0], () => g); Give(s, x[1], () => Ops.Neg(g)); break;
            case OpKind.Mul:
                Give(s, x[0], () => Ops.Mul(g, x[1])); Give(s, x[1], () => Ops.Mul(g, x[0])); break;
            case OpKind.Div:
                Give(s, x[0], () => Ops.Div(g, x[1]));
                Give(s, x[1], () => Ops.Neg(Ops.Div(Ops.Mul(g, x[0]), Ops.Mul(x[1], x[1]))));
                break;
            case OpKind.AddScalar:
                Give(s, x[0], () => g); break;
            case OpKind.Exp:
                Give(s, x[0], () => Ops.Mul(g, y)); break;
            case OpKind.Log:
                Give(s, x[0], () => Ops.Div(g, x[0])); break;
            case OpKind.Sqrt:
                Give(s, x[0], () => Ops.Div(Ops.MulScalar(g, 0.5f), y)); break;
            case OpKind.Rsqrt:
                Give(s, x[0], () => Ops.Mul(g, Ops.MulScalar(Ops.Mul(Ops.Mul(y, y), y), -0.5f))); break;
            // On a device the derivative comes from x (the kernels' form); on the CPU tanh and sigmoid use y.
            case OpKind.Tanh:
                Give(s, x[0], () => Dev(g) is { } be ? DeviceOps.UnaryBackward(be, DeviceUnaryOp.Tanh, x[0], g)
                    : Elementwise.Map2(y, g,
                    (yy, gg, d) => { for (int i = 0; i < d.Length; i++) d[i] = gg[i] * (1 - yy[i] * yy[i]); })); break;
            case OpKind.Sigmoid:
                Give(s, x[0], () => Dev(g) is { } be ? DeviceOps.UnaryBackward(be, DeviceUnaryOp.Sigmoid, x[0], g)
                    : Elementwise.Map2(y, g,
                    (yy, gg, d) => { for (int i = 0; i < d.Length; i++) d[i] = gg[i] * yy[i] * (1 - yy[i]); })); break;
            case OpKind.Silu:
                Give(s, x[0], () => Unary(DeviceUnaryOp.Silu, x[0], g, Elementwise.SiluBackward)); break;
            case OpKind.Gelu:
                Give(s, x[0], () => Unary(DeviceUnaryOp.Gelu, x[0], g, Elementwise.GeluBackward)); break;
            case OpKind.Relu:
                Give(s, x[0], () => Unary(DeviceUnaryOp.Relu, x[0], g,
                    (xx, gg, d) => { for (int i = 0; i < d.Length; i++) d[i] = xx[i] > 0 ? gg[i] : 0f; })); break;

            case OpKind.MatMul:
            {
                var a = x[0]; var b = x[1];
                Give(s, a, () => Ops.MatMul(g, Ops.Transpose(b, -1, -2)));
                Give(s, b, () =>
                {
                    if (b.Rank == 2 && a.Rank > 2)
                    {
                        var a2 = Ops.Reshape(a.Contiguous(), -1, a.Shape[^1]);
                        var g2 = Ops.Reshape(g.Contiguous(), -1, g.Shape[^1]);
                        return Ops.MatMul(Ops.Transpose(a2, 0, 1), g2);
                    }
                    return Ops.MatMul(Ops.Transpose(a, -1, -2), g);
                });
                break;
            }
            case OpKind.Linear:
            {
                var xin = x[0]; var w = x[1];
                int inF = w.Shape[1], outF = w.Shape[0];
                var g2 = Ops.Reshape(g.Contiguous(), -1, outF);
                Give(s, xin, () => Ops.Reshape(Ops.MatMul(g2, w), xin.Shape));
                Give(s, w, () => Ops.MatMul(Ops.Transpose(g2, 0, 1), Ops.Reshape(xin.Contiguous(), -1, inF)));
                if (x.Length > 2) Give(s, x[2], () => Ops.Sum(g2, new[] { 0 }));
                break;
            }
            case OpKind.Reshape:
                Give(s, x[0], () => Ops.Reshape(g, x[0].Shape)); break;
            case OpKind.Expand:
            case OpKind.Contiguous:
            case OpKind.RoundBf16: // the rounding passes gradients unchanged to the float32 value
                Give(s, x[0], () => g); break;
            case OpKind.MseLoss:
            {
                float scale = 2f * g.Item() / Math.Max(1, x[0].Numel);
                var diff = Ops.MulScalar(Ops.Sub(x[0], x[1]), scale);
                Give(s, x[0], () => diff);
                Give(s, x[1], () => Ops.Neg(diff));
                break;
            }
            default:
                throw new NotSupportedException($"Backward: no rule for {kind}.");
        }
    }

    /// <summary>What the host form of a rule needs and only a host forward saves; an op recorded on a device and
    /// run backward on the host is a bug.</summary>
    private static T HostState<T>(T? state, Node n) where T : class =>
        state ?? throw new InvalidOperationException($"Backward: {n.Kind} was recorded on one device and run back " +
            "on another.");
}
