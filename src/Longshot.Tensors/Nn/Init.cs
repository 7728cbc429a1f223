namespace Longshot.Tensors.Nn;

/// <summary>How a fresh parameter is initialised. The identity inits keep an added layer a no-op until
/// trained.</summary>
public abstract record Init
{
    /// <summary>Creates a tensor of the given shape.</summary>
    public abstract Tensor Create(int[] shape, Rng rng);

    /// <summary>All zeros.</summary>
    public static readonly Init Zeros = new ConstInit(0f);
    /// <summary>All ones.</summary>
    public static readonly Init Ones = new ConstInit(1f);

    /// <summary>A constant.</summary>
    public static Init Const(float v) => new ConstInit(v);
    /// <summary>N(0, std^2).</summary>
    public static Init Normal(float std) => new NormalInit(std);
    /// <summary>U(-bound, bound).</summary>
    public static Init Uniform(float bound) => new UniformInit(bound);

    /// <summary>PyTorch's default for Linear/Conv weights: kaiming_uniform(a = sqrt 5), i.e.
    /// U(+-1/sqrt(fan_in)).</summary>
    public static readonly Init TorchDefault = new FanInInit();

    /// <summary>PyTorch's default bias for a layer with the given fan-in: U(+-1/sqrt(fan_in)).</summary>
    public static Init TorchBias(int fanIn) => new UniformInit(fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f);

    /// <summary>Given values (a copy), for a parameter that starts as a computed table.</summary>
    public static Init Values(Tensor values) => new ValuesInit(values);

    /// <summary>Xavier/Glorot uniform.</summary>
    public static readonly Init XavierUniform = new XavierInit();

    /// <summary>
    /// Identity for a convolution weight [C, C, k...]: zero except the centre tap W[i, i, centre] = 1
    /// (NUWA-XL's temporal conv, ExVideo's 3-D adapter).
    /// </summary>
    public static readonly Init IdentityConv = new IdentityConvInit();

    private sealed record ValuesInit(Tensor Table) : Init
    {
        public override Tensor Create(int[] shape, Rng rng) => Table.Shape.SequenceEqual(shape)
            ? Table.Clone()
            : throw new ArgumentException($"Init.Values: the values are {ShapeUtil.Str(Table.Shape)}, the parameter " +
                $"{ShapeUtil.Str(shape)}.");
    }

    private sealed record ConstInit(float Value) : Init
    {
        public override Tensor Create(int[] shape, Rng rng) => Tensor.Full(Value, shape);
    }

    private sealed record NormalInit(float Std) : Init
    {
        public override Tensor Create(int[] shape, Rng rng)
        {
            var t = Tensor.Zeros(shape); rng.FillNormal(t.Span, 0f, Std); return t;
        }
    }

    private sealed record UniformInit(float Bound) : Init
    {
        public override Tensor Create(int[] shape, Rng rng)
        {
            var t = Tensor.Zeros(shape); if (Bound > 0) rng.FillUniform(t.Span, -Bound, Bound); return t;
        }
    }

    private sealed record FanInInit : Init
    {
        public override Tensor Create(int[] shape, Rng rng) => new UniformInit(1f / MathF.Sqrt(FanIn(shape)))
            .Create(shape, rng);
    }

    private sealed record XavierInit : Init
    {
        public override Tensor Create(int[] shape, Rng rng)
        {
            int recept = 1; for (int i = 2; i < shape.Length; i++) recept *= shape[i];
            int fanIn = shape.Length > 1 ? shape[1] * recept : shape[0], fanOut = shape[0] * recept;
            return new UniformInit(MathF.Sqrt(6f / (fanIn + fanOut))).Create(shape, rng);
        }
    }

    private sealed record IdentityConvInit : Init
    {
        public override Tensor Create(int[] shape, Rng rng)
        {
            if (shape.Length < 3 || shape[0] != shape[1])
                throw new ArgumentException($"IdentityConv: weight {ShapeUtil.Str(shape)} must be [C, C, k...] with " +
                    $"equal channels.");
            var t = Tensor.Zeros(shape);
            int taps = 1; for (int i = 2; i < shape.Length; i++) taps *= shape[i];
            int centre = 0, stride = 1;
            for (int i = shape.Length - 1; i >= 2; i--)
            {
                if (shape[i] % 2 == 0)
                    throw new ArgumentException($"IdentityConv: kernel {ShapeUtil.Str(shape[2..])} needs odd sizes " +
                    $"to have a centre tap.");
                centre += (shape[i] - 1) / 2 * stride; stride *= shape[i];
            }
            for (int c = 0; c < shape[0]; c++) t.Storage[(c * shape[1] + c) * taps + centre] = 1f;
            return t;
        }
    }

    internal static int FanIn(int[] shape)
    {
        if (shape.Length < 2) return Math.Max(1, shape.Length == 1 ? shape[0] : 1);
        int f = shape[1]; for (int i = 2; i < shape.Length; i++) f *= shape[i];
        return Math.Max(1, f);
    }
}
