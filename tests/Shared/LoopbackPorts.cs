using System.Net;
using System.Net.Sockets;

namespace Sios.Tests.Shared;

/// <summary>Ports for test servers that must be named before they start (a page's origin, a database's address).</summary>
internal static class LoopbackPorts
{
    // Below the kernel's ephemeral range (32768-60999 by default), from which every bind to port 0 and every outgoing
    // connection draws: a port picked here and bound seconds later is not handed to one of those meanwhile, as a port
    // picked by binding to 0 can be while tests run side by side.
    private const int First = 20_000;
    private const int Last = 32_000;

    /// <summary>A loopback port free right now, outside the ephemeral range.</summary>
    public static int Pick()
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }
}
