using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Tensors on a device: parsing, moving and the errors of host access. The CPU accelerator stands in for
/// the GPU, registered under ordinals no other test uses.</summary>
public class DeviceTests
{
    [Fact]
    public void DevicesParseAndBadNamesAreOneLineErrors()
    {
        Assert.Equal(Device.Cpu, Device.Parse("cpu"));
        Assert.Equal(Device.Cuda(0), Device.Parse("CUDA"));
        Assert.Equal(Device.Cuda(3), Device.Parse("cuda:3"));
        Assert.Equal("cuda:3", Device.Cuda(3).ToString());
        foreach (var bad in new[] { "gpu", "cuda:-1", "cuda:x", "" })
        {
            var e = Assert.ThrowsAny<LongshotException>(() => Device.Parse(bad));
            Assert.StartsWith("device:", e.Message);
        }
        var none = Assert.ThrowsAny<LongshotException>(() => Tensor.Zeros(2).ToDevice(Device.Cuda(77)));
        Assert.Contains("no backend", none.Message);
    }

    [Fact]
    public void TensorsMoveToTheDeviceAndBackAndViewsOfThemGatherOnTheWayBack()
    {
        using var gpu = GpuDevice.OpenCpuAccelerator();
        CudaBackend.Register(gpu, 5);
        try
        {
            var x = Tensor.Randn(new Rng(1), 3, 4, 5);
            var view = x.Transpose(0, 2); // not contiguous
            var d = view.ToDevice(Device.Cuda(5));
            Assert.Equal(Device.Cuda(5), d.Device);
            Assert.Equal(view.Shape, d.Shape);
            Assert.Equal(view.ToArray(), d.ToArray());
            Assert.Same(d, d.ToDevice(Device.Cuda(5)));
            // A view of a device tensor stays on the device and comes back as its own elements.
            var part = d.Narrow(1, 1, 2);
            Assert.Equal(Device.Cuda(5), part.Device);
            Assert.Equal(view.Narrow(1, 1, 2).ToArray(), part.ToArray());
            Assert.Equal(view.Narrow(1, 1, 2).ToArray(), part.ToDevice(Device.Cpu).ToArray());
            Assert.Equal(x[2, 3, 4], d.Narrow(0, 4, 1).Narrow(1, 3, 1).Narrow(2, 2, 1).Item());
        }
        finally { DeviceBackends.Unregister(Device.Cuda(5)); }
    }

    [Fact]
    public void OpsWithoutADeviceKernelRefuseDeviceTensorsByName()
    {
        using var gpu = GpuDevice.OpenCpuAccelerator();
        CudaBackend.Register(gpu, 6);
        try
        {
            var a = Tensor.Ones(4).ToDevice(Device.Cuda(6));
            var b = Tensor.Ones(4);
            foreach (var op in new Func<Tensor>[] { () => a + b, () => b * a, () => Ops.Max(a, 0),
                () => Ops.LogSoftmax(a) })
            {
                var e = Assert.ThrowsAny<LongshotException>(op);
                Assert.Contains("cuda:6", e.Message);
                Assert.Contains("ToDevice", e.Message);
            }
        }
        finally { DeviceBackends.Unregister(Device.Cuda(6)); }
    }
}
