#pragma once
// Free ports on 127.0.0.1 for the daemon and peers a test starts. Ports are
// chosen at random in 10000-31999 (below Linux's ephemeral range, so that
// sockets bound to port 0 elsewhere do not take them later), checked by
// binding, and never handed out twice by one test process. Another process may
// still take a port between the check and its use; the window is small.
#include <cstdint>

namespace sipline::test {

// A port free for both UDP and TCP (SIP listens on both).
std::uint16_t pick_free_port();
// The first of `count` consecutive ports free for both UDP and TCP (baresip
// binds SIP on its port and TLS on the next).
std::uint16_t pick_free_port_block(int count);
// The first port of `count` consecutive free UDP ports, even (RTP/RTCP pairs).
std::uint16_t pick_free_udp_range(int count);

}  // namespace sipline::test
