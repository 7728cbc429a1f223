using Longshot.Tensors.Devices;

namespace Longshot.Tensors;

public sealed partial class Tensor
{
    /// <summary>Where this tensor's elements live.</summary>
    public Device Device => Buffer.Device;

    /// <summary>
    /// This tensor on <paramref name="device"/>: itself when already there, else a contiguous copy (through the host
    /// between two accelerators). The copy is a new leaf: gradients do not flow back through it.
    /// </summary>
    public Tensor ToDevice(Device device)
    {
        if (device == Device) return this;
        var host = Device == Device.Cpu ? this : ToHost();
        if (device == Device.Cpu) return host;
        var values = host.Contiguous();
        var memory = DeviceBackends.For(device).Allocate(Numel);
        memory.CopyFromHost(0, values.Storage.AsSpan(values.Offset, Numel));
        return new Tensor(new TensorBuffer(memory), (int[])Shape.Clone(), ShapeUtil.ContiguousStrides(Shape), 0);
    }

    /// <summary>A host copy of a tensor on an accelerator, with the same shape (a contiguous copy of a view).</summary>
    private Tensor ToHost()
    {
        var memory = Buffer.Memory!;
        if (IsContiguous)
        {
            var dst = GC.AllocateUninitializedArray<float>(Numel);
            memory.CopyToHost(Offset, dst);
            return new Tensor(dst, (int[])Shape.Clone());
        }
        // A strided view: the whole allocation comes over, and the view is gathered on the host.
        var all = GC.AllocateUninitializedArray<float>((int)memory.Length);
        memory.CopyToHost(0, all);
        return new Tensor(all, Shape, Strides, Offset).Contiguous();
    }
}
