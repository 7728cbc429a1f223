namespace Longshot.Tensors.Autograd;

/// <summary>Whether ops record a graph. Off inside <see cref="Tensor.NoGrad"/> scopes and during backward.</summary>
public static class GradMode
{
    private static readonly AsyncLocal<int> Disabled = new();

    /// <summary>True when ops on tensors that require gradients are recorded.</summary>
    public static bool IsEnabled => Disabled.Value == 0;

    internal static IDisposable Push(bool enabled)
    {
        int before = Disabled.Value;
        Disabled.Value = enabled ? 0 : before + 1;
        return new Scope(before);
    }

    private sealed class Scope(int before) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            Disabled.Value = before;
        }
    }
}
