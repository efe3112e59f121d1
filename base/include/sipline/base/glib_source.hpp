#pragma once
// Owners for GLib main-loop sources, and deferred delivery through one.
//
// SourcePtr owns one reference to a GSource; dropping it destroys the source
// (detaches it from its context, so its callback will not run) and unrefs it.
// A source whose own callback returns G_SOURCE_REMOVE is destroyed by GLib:
// the callback calls release_dispatched() so that the owner only unrefs.
//
// DeferredCall runs a function later, from the loop of a GMainContext (a GLib
// idle source), never inside the call that asked for it: how the resolver and
// the router hand results to callbacks. Several schedule() calls before it
// runs give one run. It keeps a reference to the context.
// Thread: the thread that runs the context; not thread-safe.
// GLib stays out of this header; base links it privately.
#include <functional>
#include <memory>

typedef struct _GSource GSource;
typedef struct _GMainContext GMainContext;

namespace sipline::base {

struct SourceDeleter {
  void operator()(GSource* source) const noexcept;  // g_source_destroy + g_source_unref
};
using SourcePtr = std::unique_ptr<GSource, SourceDeleter>;

// For the source's own callback when it returns G_SOURCE_REMOVE: drops the
// owner's reference without destroying the source (GLib does that on return).
void release_dispatched(SourcePtr& source) noexcept;

class DeferredCall {
 public:
  // `context` null: the default main context. `fn` runs on the context's loop.
  DeferredCall(GMainContext* context, std::function<void()> fn);
  ~DeferredCall();
  DeferredCall(const DeferredCall&) = delete;
  DeferredCall& operator=(const DeferredCall&) = delete;

  // Runs `fn` from the loop soon; nothing more when a run is already pending.
  // `fn` may call schedule() again (that is a new run); it must not destroy
  // this DeferredCall.
  void schedule();
  // The pending run, if any, will not happen.
  void cancel() { source_.reset(); }
  bool pending() const { return source_ != nullptr; }

 private:
  static int on_idle(void* data) noexcept;

  GMainContext* context_;
  std::function<void()> fn_;
  SourcePtr source_;
};

}  // namespace sipline::base
