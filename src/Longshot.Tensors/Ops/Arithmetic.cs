using System.Numerics.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

/// <summary>Tensor operations. Every op records itself for backward when an input requires a gradient.</summary>
public static partial class Ops
{
    /// <summary>a + b with broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) =>
        Graph.Record(Binary("Add", BinaryOp.Add, a, b), OpKind.Add, a, b);

    /// <summary>a - b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) =>
        Graph.Record(Binary("Sub", BinaryOp.Sub, a, b), OpKind.Sub, a, b);

    /// <summary>a * b with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) =>
        Graph.Record(Binary("Mul", BinaryOp.Mul, a, b), OpKind.Mul, a, b);

    /// <summary>a / b with broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b) =>
        Graph.Record(Binary("Div", BinaryOp.Div, a, b), OpKind.Div, a, b);

    /// <summary>x + s.</summary>
    public static Tensor AddScalar(Tensor x, float s) =>
        Graph.Record(DeviceOps.Backend("AddScalar", x) is { } be ? DeviceOps.Affine(be, x, 1f, s)
            : Elementwise.Map(x, (src, d) => TensorPrimitives.Add(src, s, d)), OpKind.AddScalar, x);

    /// <summary>x * s.</summary>
    public static Tensor MulScalar(Tensor x, float s) =>
        Graph.Record(DeviceOps.Backend("MulScalar", x) is { } be ? DeviceOps.Affine(be, x, s, 0f)
            : Elementwise.Map(x, (src, d) => TensorPrimitives.Multiply(src, s, d)), new MulScalarOp(s), x);

    /// <summary>x ^ p, elementwise.</summary>
    public static Tensor PowScalar(Tensor x, float p) =>
        Graph.Record(Elementwise.Map(x, (src, d) => TensorPrimitives.Pow(src, p, d)), new PowScalarOp(p), x);

    /// <summary>-x.</summary>
    public static Tensor Neg(Tensor x) => MulScalar(x, -1f);

    /// <summary>x * x.</summary>
    public static Tensor Square(Tensor x) => Mul(x, x);

    /// <summary>e^x.</summary>
    public static Tensor Exp(Tensor x) =>
        Graph.Record(Map("Exp", x, DeviceUnaryOp.Exp, FastMath.Exp), OpKind.Exp, x);

    /// <summary>Natural logarithm.</summary>
    public static Tensor Log(Tensor x) =>
        Graph.Record(Map("Log", x, DeviceUnaryOp.Log, TensorPrimitives.Log), OpKind.Log, x);

    /// <summary>Square root.</summary>
    public static Tensor Sqrt(Tensor x) =>
        Graph.Record(Map("Sqrt", x, DeviceUnaryOp.Sqrt, TensorPrimitives.Sqrt), OpKind.Sqrt, x);

    /// <summary>1 / sqrt(x).</summary>
    public static Tensor Rsqrt(Tensor x) =>
        Graph.Record(Elementwise.Map(x, (s, d) => { TensorPrimitives.Sqrt(s, d); TensorPrimitives.Reciprocal(d, d); }),
        OpKind.Rsqrt, x);

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) =>
        Graph.Record(Map("Tanh", x, DeviceUnaryOp.Tanh, FastMath.Tanh), OpKind.Tanh, x);

    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor x) =>
        Graph.Record(Map("Sigmoid", x, DeviceUnaryOp.Sigmoid, FastMath.Sigmoid), OpKind.Sigmoid, x);

    /// <summary>x * sigmoid(x).</summary>
    public static Tensor Silu(Tensor x) =>
        Graph.Record(Map("Silu", x, DeviceUnaryOp.Silu, Elementwise.Silu), OpKind.Silu, x);

    /// <summary>GELU with the exact erf form (PyTorch's default).</summary>
    public static Tensor Gelu(Tensor x) =>
        Graph.Record(Map("Gelu", x, DeviceUnaryOp.Gelu, Elementwise.Gelu), OpKind.Gelu, x);

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) =>
        Graph.Record(Map("Relu", x, DeviceUnaryOp.Relu, (s, d) => TensorPrimitives.Max(s, 0f, d)), OpKind.Relu,
            x);

    /// <summary>A binary op: the device's kernel for tensors on a device, else the CPU kernel.</summary>
    private static Tensor Binary(string name, BinaryOp op, Tensor a, Tensor b) =>
        DeviceOps.Backend(name, a, b) is { } be ? DeviceOps.Binary(be, name, (DeviceBinaryOp)op, a, b)
            : Elementwise.Binary(name, op, a, b);

    /// <summary>A unary op: the device's kernel for a tensor on a device, else the CPU span kernel.</summary>
    private static Tensor Map(string name, Tensor x, DeviceUnaryOp op, Elementwise.SpanAction cpu) =>
        DeviceOps.Backend(name, x) is { } be ? DeviceOps.Unary(be, op, x) : Elementwise.Map(x, cpu);
}

public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);
    public static Tensor operator +(Tensor a, float s) => Ops.AddScalar(a, s);
    public static Tensor operator +(float s, Tensor a) => Ops.AddScalar(a, s);
    public static Tensor operator -(Tensor a, float s) => Ops.AddScalar(a, -s);
    public static Tensor operator -(float s, Tensor a) => Ops.AddScalar(Ops.Neg(a), s);
    public static Tensor operator *(Tensor a, float s) => Ops.MulScalar(a, s);
    public static Tensor operator *(float s, Tensor a) => Ops.MulScalar(a, s);
    public static Tensor operator /(Tensor a, float s) => Ops.MulScalar(a, 1f / s);
    public static Tensor operator -(Tensor a) => Ops.Neg(a);

    /// <summary>Starts a scope in which no graph is recorded (inference, optimizer updates).</summary>
    public static IDisposable NoGrad() => GradMode.Push(false);

    /// <summary>Runs reverse-mode differentiation from this scalar (or with an explicit seed gradient).</summary>
    public GradStore Backward(Tensor? seed = null) => Autograd.Backward.Run(this, seed);
}
