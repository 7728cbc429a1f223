using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Diffusion.Tests;
using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>A whole Mask 3D-UNet call (small config, 3 frames of 4 x 4 latents) on the CPU accelerator registered as
/// cuda:9 against the same call on the CPU. About half a minute: every GPU thread runs as .NET work.</summary>
public class DeviceModelTests
{
    [Fact]
    public void AUnetCallOnTheDeviceEqualsTheCpus()
    {
        var parts = TinyMtd.Create(3);
        var rng = new Rng(3);
        int l = 3;
        var x = Tensor.Randn(rng, l, 4, 4, 4);
        var given = new[] { true, false, true };
        var (cond, mask) = MtdConditions.Build(Tensor.Randn(rng, l, 4, 4, 4), given);
        int[] positions = { 0, 3, 6 };
        using var _ = Tensor.NoGrad();
        var prompts = parts.EncodePrompts(new[] { "a red ball", "a blue ball rolls", "" });
        var cpu = parts.Unet.Forward(new MtdInput(x, new[] { 500 }, prompts, cond, mask, positions)).ToArray();
        using var gpu = GpuDevice.OpenCpuAccelerator();
        CudaBackend.Register(gpu, 9);
        try
        {
            var d = Device.Cuda(9);
            parts.Unet.Parameters.ToDevice(d);
            var y = parts.Unet.Forward(new MtdInput(x.ToDevice(d), new[] { 500 }, prompts.ToDevice(d),
                cond.ToDevice(d), mask.ToDevice(d), positions));
            Assert.Equal(d, y.Device);
            var dev = y.ToArray();
            for (int i = 0; i < cpu.Length; i++)
                Assert.True(MathF.Abs(cpu[i] - dev[i]) <= 1e-4f * (1 + MathF.Abs(cpu[i])),
                    $"[{i}] {dev[i]} vs {cpu[i]}");
        }
        finally
        {
            parts.Unet.Parameters.ToDevice(Device.Cpu);
            DeviceBackends.Unregister(Device.Cuda(9));
        }
    }

    [Fact]
    public void ASampledUnitOnTheDeviceEqualsTheCpus()
    {
        // One DoD unit: text encoder, guided UNet calls, held given frames and DPM-Solver++ steps, all on the device.
        var parts = TinyMtd.Create(3);
        var sampler = new MtdSampler(parts, 4, 4, 4);
        var given = Tensor.Randn(new Rng(5), 4, 4, 4);
        MtdClip Unit() => new(new[] { 0, 3, 6 }, new[] { "a red ball", "a blue ball rolls", "a red ball" },
            new Tensor?[] { given, null, given }, new Rng(7));
        var o = new SamplerOptions(Steps: 2, GuidanceScale: 2f);
        var cpu = sampler.Sample(new[] { Unit() }, o)[0].ToArray();
        using var gpu = GpuDevice.OpenCpuAccelerator();
        CudaBackend.Register(gpu, 9);
        try
        {
            parts.ToDevice(Device.Cuda(9));
            var y = sampler.Sample(new[] { Unit() }, o)[0];
            Assert.Equal(Device.Cpu, y.Device); // latents come back to the host
            var dev = y.ToArray();
            for (int i = 0; i < cpu.Length; i++)
                Assert.True(MathF.Abs(cpu[i] - dev[i]) <= 1e-3f * (1 + MathF.Abs(cpu[i])),
                    $"[{i}] {dev[i]} vs {cpu[i]}");
            Assert.Equal(given.ToArray(), y.Narrow(0, 2, 1).ToArray()); // given frames exactly as given
        }
        finally
        {
            parts.ToDevice(Device.Cpu);
            DeviceBackends.Unregister(Device.Cuda(9));
        }
    }

    [Fact]
    public void DiffusionOverDiffusionOnTheDeviceSamplesEachLevelInOneCallAndEqualsTheCpu()
    {
        var parts = TinyMtd.Create(3);
        var vae = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 } }, 3);
        // 10 frames at L = 4: 4 keyframes (0, 3, 6, 9), then 3 local units of 4 consecutive frames.
        var story = Storyline.Parse("0-5: a red ball\n5-: a blue ball rolls\n", frames: 10);
        var request = new GenerationRequest(story, 10)
        {
            Scheme = new DiffusionOverDiffusion(), Length = 4, Seed = 2,
            Sampler = new SamplerOptions(Steps: 1, GuidanceScale: 1f),
        };
        var cpuBatches = new List<GenerationProgress>();
        var cpu = new LongVideoPipeline(parts, parts, vae, 4) { Workers = 1 }
            .GenerateLatents(request, new Inline<GenerationProgress>(cpuBatches.Add));
        using var gpu = GpuDevice.OpenCpuAccelerator();
        CudaBackend.Register(gpu, 9);
        try
        {
            var pipe = new LongVideoPipeline(parts, parts, vae, 4);
            pipe.ToDevice(Device.Cuda(9));
            Assert.Equal(1, pipe.Workers);
            var batches = new List<GenerationProgress>();
            var dev = pipe.GenerateLatents(request, new Inline<GenerationProgress>(batches.Add));
            Assert.Equal(4, cpuBatches.Count); // one unit per call on the CPU
            Assert.Equal(new[] { 1, 3 }, batches.Select(b => b.UnitsDone).ToArray()); // a whole level per call
            foreach (var f in Enumerable.Range(0, 10))
            {
                float[] a = cpu[f].ToArray(), b = dev[f].ToArray();
                for (int i = 0; i < a.Length; i++)
                    Assert.True(MathF.Abs(a[i] - b[i]) <= 1e-3f * (1 + MathF.Abs(a[i])), $"frame {f} [{i}]");
            }
            var clips = Assert.ThrowsAny<LongshotException>(() => pipe.GenerateLatents(request with
                { Scheme = new ClipParallel() }));
            Assert.Contains("CPU only", clips.Message);
        }
        finally
        {
            parts.ToDevice(Device.Cpu);
            DeviceBackends.Unregister(Device.Cuda(9));
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
