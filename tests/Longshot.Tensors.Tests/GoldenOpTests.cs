using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>Every op's forward and backward against PyTorch (fixtures written by tools/make_golden.py).</summary>
public class GoldenOpTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> Golden = new(() =>
        SafeTensors.Load(TestUtil.GoldenPath("ops.safetensors")));

    private static Tensor G(string key) => Golden.Value.TryGetValue(key, out var t) ? t
        : throw new KeyNotFoundException($"golden tensor {key} missing: rerun tools/make_golden.py");

    private static int[] Ids() => G("embedding.ids").ToArray().Select(v => (int)v).ToArray();

    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Cases = new()
    {
        ["add_bcast"] = x => x[0] + x[1],
        ["sub_bcast"] = x => x[0] - x[1],
        ["mul_bcast"] = x => x[0] * x[1],
        ["div"] = x => x[0] / x[1],
        ["exp"] = x => Ops.Exp(x[0]),
        ["log"] = x => Ops.Log(x[0]),
        ["sqrt"] = x => Ops.Sqrt(x[0]),
        ["rsqrt"] = x => Ops.Rsqrt(x[0]),
        ["tanh"] = x => Ops.Tanh(x[0]),
        ["sigmoid"] = x => Ops.Sigmoid(x[0]),
        ["silu"] = x => Ops.Silu(x[0]),
        ["gelu"] = x => Ops.Gelu(x[0]),
        ["pow"] = x => Ops.PowScalar(x[0], 3f),
        ["sum_dims"] = x => Ops.Sum(x[0], new[] { 0, 2 }),
        ["mean_keep"] = x => Ops.Mean(x[0], new[] { 1 }, keepDim: true),
        ["max_dim"] = x => Ops.Max(x[0], 2),
        ["softmax"] = x => Ops.Softmax(x[0], 1),
        ["log_softmax"] = x => Ops.LogSoftmax(x[0], -1),
        ["matmul_batched"] = x => Ops.MatMul(x[0], x[1]),
        ["matmul_shared"] = x => Ops.MatMul(x[0], x[1]),
        ["matmul_bcast"] = x => Ops.MatMul(x[0], x[1]),
        ["matmul_large"] = x => Ops.MatMul(x[0], x[1]),
        ["linear"] = x => Ops.Linear(x[0], x[1], x[2]),
        ["conv1d"] = x => Ops.Conv1d(x[0], x[1], x[2], padding: 1),
        ["conv1d_reflect"] = x => Ops.Conv1d(x[0], x[1], x[2], padding: 1, padMode: PadMode.Reflect),
        ["conv2d_s2"] = x => Ops.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1),
        ["conv2d_1x1"] = x => Ops.Conv2d(x[0], x[1], x[2]),
        ["conv2d_big"] = x => Ops.Conv2d(x[0], x[1], x[2], padding: 1),
        ["conv3d"] = x => Ops.Conv3d(x[0], x[1], x[2], padding: 1),
        ["conv3d_time"] = x => Ops.Conv3d(x[0], x[1], x[2], new[] { 1, 1, 1 }, new[] { 1, 0, 0 }),
        ["convt2d"] = x => Ops.ConvTranspose2d(x[0], x[1], x[2], stride: 2),
        ["convt2d_k3"] = x => Ops.ConvTranspose2d(x[0], x[1], x[2], stride: 2, padding: 1),
        ["upsample2x"] = x => Ops.UpsampleNearest(x[0], 2, 2),
        ["avgpool2"] = x => Ops.AvgPool(x[0], 2, 2),
        ["group_norm"] = x => Ops.GroupNorm(x[0], 3, x[1], x[2], 1e-5f),
        ["group_norm_silu"] = x => Ops.GroupNorm(x[0], 2, x[1], x[2], 1e-6f, silu: true),
        ["layer_norm"] = x => Ops.LayerNorm(x[0], x[1], x[2], 1e-5f),
        ["pad_reflect"] = x => Ops.Pad(x[0], new[] { 2, 1, 1, 2 }, PadMode.Reflect),
        ["pad_constant"] = x => Ops.Pad(x[0], new[] { 1, 2, 0, 3 }, PadMode.Constant, 0.5f),
        ["repeat"] = x => Ops.Repeat(x[0], 2, 1, 3),
        ["concat"] = x => Ops.Concat(new[] { x[0], x[1] }, 1),
        ["permute_narrow"] = x => Ops.Narrow(Ops.Permute(x[0], 2, 0, 1), 0, 1, 2) * 2f,
        ["attention"] = x => Ops.ScaledDotProductAttention(x[0], x[1], x[2]),
        ["attention_bias"] = x => Ops.ScaledDotProductAttention(x[0], x[1], x[2], bias: x[3]),
        ["attention_long_mask"] = x =>
            Ops.ScaledDotProductAttention(x[0], x[1], x[2], mask: G("attention_long_mask.mask")),
        ["mse"] = x => Ops.MseLoss(x[0], x[1]),
        ["kl_std"] = x => Ops.GaussianKl(x[0], x[1]),
        ["embedding"] = x => Ops.Embedding(x[0], Ids(), 2, 3),
    };

    [Fact]
    public void TorchMultiheadAttentionModuleMatchesPyTorch()
    {
        var weights = new Dictionary<string, Tensor>
        {
            ["attn.in_proj_weight"] = G("torch_mha.in1"), ["attn.in_proj_bias"] = G("torch_mha.in2"),
            ["attn.out_proj.weight"] = G("torch_mha.in3"), ["attn.out_proj.bias"] = G("torch_mha.in4"),
        };
        var store = new Nn.ParameterStore();
        var m = new Nn.TorchMultiheadAttention(Nn.VarBuilder.FromTensors(store, weights).Pp("attn"), 8, 2);
        var x = G("torch_mha.in0").Clone().SetRequiresGrad();
        var y = m.Forward(x);
        TestUtil.AssertClose(G("torch_mha.out"), y, 1e-4f, 1e-4f, "mha forward");
        var grads = y.Backward(G("torch_mha.gout"));
        var targets = new[] { x, m.InProjWeight, m.InProjBias, m.OutProj.Weight, m.OutProj.Bias! };
        for (int i = 0; i < targets.Length; i++)
            TestUtil.AssertClose(G($"torch_mha.gin{i}"), grads[targets[i]], 2e-4f, 2e-4f, $"mha grad {i}");
    }

    public static IEnumerable<object[]> CaseNames() => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ForwardAndBackwardMatchPyTorch(string name) => Check(name, nonContiguous: false);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void NonContiguousInputsGiveTheSameResults(string name) => Check(name, nonContiguous: true);

    [Fact]
    public void EveryFixtureCaseHasATest()
    {
        var fixtureCases = Golden.Value.Keys.Where(k => k.EndsWith(".out")).Select(k => k[..^4]).ToHashSet();
        Assert.Empty(fixtureCases.Except(Cases.Keys).Except(new[] { "torch_mha" }));
    }

    private static void Check(string name, bool nonContiguous)
    {
        var inputs = new List<Tensor>();
        for (int i = 0; Golden.Value.ContainsKey($"{name}.in{i}"); i++)
        {
            var t = G($"{name}.in{i}").Clone();
            if (nonContiguous) t = TestUtil.NonContiguous(t);
            t = t.Detach().SetRequiresGrad();
            inputs.Add(t);
        }
        var y = Cases[name](inputs.ToArray());
        float tol = name.StartsWith("attention") || name.Contains("big") || name.Contains("large") ? 3e-4f : 1e-4f;
        TestUtil.AssertClose(G($"{name}.out"), y, tol, tol, $"{name} forward");
        var grads = y.Backward(G($"{name}.gout"));
        for (int i = 0; i < inputs.Count; i++)
        {
            if (!Golden.Value.ContainsKey($"{name}.gin{i}")) continue;
            var g = grads.Get(inputs[i]);
            Assert.True(g != null, $"{name}: input {i} received no gradient");
            TestUtil.AssertClose(G($"{name}.gin{i}"), g!, tol * 2, tol * 2, $"{name} grad of input {i}");
        }
    }
}
