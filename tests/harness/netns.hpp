#pragma once
// A network namespace with only a loopback interface, for tests that feed the
// gateway messages naming other hosts (RFC 4475 torture messages, scanners,
// fuzzed SIP): a SIP stack answers to the Via and resolves names it reads, and
// inside this namespace no reply and no DNS query can leave the machine.
//
// enter_loopback_only_netns() moves the calling thread (call it first in the
// test, before any thread or child process exists) into a fresh namespace
// with `lo` up; every process it starts afterwards (the daemon, sipp,
// sipvicious) inherits it. The namespace disappears when the test process
// exits, so nothing is left to clean up. It needs root (CAP_SYS_ADMIN): under
// CI the test fails without it, elsewhere it is skipped.
//   if (!enter_loopback_only_netns()) return;
// Thread: the test's main thread, before it starts others.

namespace sipline::test {

bool enter_loopback_only_netns();

// True once enter_loopback_only_netns() has succeeded in this process.
bool in_loopback_only_netns();

}  // namespace sipline::test
