using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Longshot.Studio;

/// <summary>
/// Keeps other web pages out. Any page the user visits can send requests to 127.0.0.1, so the studio answers only
/// requests that one of its own pages (or a program that is not a browser) could have made:
/// <list type="number">
/// <item>the Host is a name the studio is served at (loopback names for a loopback bind, plus the configured ones):
/// this stops DNS rebinding, where evil.example is made to resolve to 127.0.0.1;</item>
/// <item>a state-changing request (anything but GET, HEAD) has <c>Content-Type: application/json</c>, which no form
/// or "simple" cross-site request can carry without a CORS preflight the studio never grants;</item>
/// <item>a request that states where it comes from (<c>Origin</c>, or <c>Sec-Fetch-Site</c> as every current browser
/// sends it) must come from the studio itself. A request with neither is from a program such as curl, which a web
/// page cannot make the browser send;</item>
/// <item>with an access token set, every request carries it (header, or the cookie the page gets from
/// <c>/?token=...</c>).</item>
/// </list>
/// </summary>
public sealed class RequestGuard
{
    /// <summary>The cookie that carries the access token for the page and its event streams.</summary>
    public const string TokenCookie = "longshot_token";

    private readonly HashSet<string> _hosts;
    private readonly byte[]? _token;

    /// <summary>A guard for a studio served at <paramref name="urls"/> (';'-separated), answering also to
    /// <paramref name="extraHosts"/>, with an optional access token.</summary>
    public RequestGuard(string urls, IEnumerable<string> extraHosts, string? token)
    {
        _hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", "127.0.0.1", "::1" };
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (HostOf(url) is { } host && !IsWildcard(host)) _hosts.Add(host);
        foreach (var host in extraHosts) _hosts.Add(host.Trim('[', ']'));
        _token = string.IsNullOrEmpty(token) ? null : Encoding.UTF8.GetBytes(token);
    }

    /// <summary>Whether every request must carry the access token.</summary>
    public bool NeedsToken => _token != null;

    /// <summary>Why <paramref name="request"/> is refused (status and a message for the page), or null when it may
    /// go on.</summary>
    public (int Status, string Message)? Refusal(HttpRequest request)
    {
        if (!_hosts.Contains(request.Host.Host.Trim('[', ']')))
            return (421, "this studio does not answer to that host name.");
        if (_token != null && !HasToken(request))
            return (401, "this studio needs its access token: open the address it printed when it started.");
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            if (!IsJson(request.ContentType))
                return (415, "requests that change something must send a JSON body (Content-Type: application/json).");
            if (!FromItself(request))
                return (403, "requests from other web pages are refused.");
        }
        return null;
    }

    /// <summary>Whether <paramref name="given"/> is the access token (compared in constant time).</summary>
    public bool IsToken(string? given) =>
        _token != null && given != null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);

    /// <summary>Whether a bind address reaches beyond this machine (anything but loopback names and
    /// addresses).</summary>
    public static bool IsBeyondLoopback(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(url =>
            HostOf(url) is not { } host || IsWildcard(host)
            || !(host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                 || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip))));

    private bool HasToken(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (header != null && header.StartsWith("Bearer ", StringComparison.Ordinal) && IsToken(header[7..]))
            return true;
        return IsToken(request.Cookies[TokenCookie]) || IsToken(request.Query["token"]);
    }

    private static bool IsJson(string? contentType) =>
        contentType != null && contentType.Split(';')[0].Trim()
            .Equals("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Same origin: the Origin's scheme, host and port are the request's own; Sec-Fetch-Site says
    /// same-origin (or none: typed into the address bar).</summary>
    private static bool FromItself(HttpRequest request)
    {
        string? site = request.Headers["Sec-Fetch-Site"];
        if (site != null && site is not ("same-origin" or "none")) return false;
        string? origin = request.Headers.Origin;
        if (origin == null) return true;
        return Uri.TryCreate(origin, UriKind.Absolute, out var o)
               && o.Scheme == request.Scheme
               && string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static string? HostOf(string url)
    {
        // Kestrel's wildcards ("http://*:5000", "http://+:5000") are not valid URIs.
        var normalised = url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0");
        return Uri.TryCreate(normalised, UriKind.Absolute, out var u) ? u.Host.Trim('[', ']') : null;
    }

    private static bool IsWildcard(string host) => host is "0.0.0.0" or "::";
}
