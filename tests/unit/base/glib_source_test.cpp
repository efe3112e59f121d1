#include "sipline/base/glib_source.hpp"

#include <glib.h>
#include <gtest/gtest.h>

#include <memory>

#include "sipline/base/c_ptr.hpp"

namespace sipline::base {
namespace {

using ContextPtr = CPtr<GMainContext, g_main_context_unref>;

// Runs what is ready on `context` without blocking.
void drain(GMainContext* context) {
  while (g_main_context_iteration(context, FALSE)) {
  }
}

TEST(DeferredCall, RunsFromTheLoopNotInsideSchedule) {
  ContextPtr context(g_main_context_new());
  int runs = 0;
  DeferredCall call(context.get(), [&] { ++runs; });
  call.schedule();
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(call.pending());
  drain(context.get());
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(call.pending());
}

TEST(DeferredCall, SchedulesBeforeARunShareIt) {
  ContextPtr context(g_main_context_new());
  int runs = 0;
  DeferredCall call(context.get(), [&] { ++runs; });
  call.schedule();
  call.schedule();
  call.schedule();
  drain(context.get());
  EXPECT_EQ(runs, 1);
  call.schedule();
  drain(context.get());
  EXPECT_EQ(runs, 2);
}

TEST(DeferredCall, ScheduleFromTheFunctionIsANewRun) {
  ContextPtr context(g_main_context_new());
  int runs = 0;
  std::unique_ptr<DeferredCall> call;
  call = std::make_unique<DeferredCall>(context.get(), [&] {
    if (++runs < 3) call->schedule();
  });
  call->schedule();
  drain(context.get());
  EXPECT_EQ(runs, 3);
  EXPECT_FALSE(call->pending());
}

TEST(DeferredCall, CancelledOrDestroyedNeverRuns) {
  ContextPtr context(g_main_context_new());
  int runs = 0;
  DeferredCall cancelled(context.get(), [&] { ++runs; });
  cancelled.schedule();
  cancelled.cancel();
  EXPECT_FALSE(cancelled.pending());
  {
    DeferredCall destroyed(context.get(), [&] { ++runs; });
    destroyed.schedule();
  }
  drain(context.get());
  EXPECT_EQ(runs, 0);
}

TEST(DeferredCall, KeepsItsContextAlive) {
  int runs = 0;
  GMainContext* raw = g_main_context_new();
  DeferredCall call(raw, [&] { ++runs; });
  g_main_context_unref(raw);  // the DeferredCall still holds a reference
  call.schedule();
  drain(raw);
  EXPECT_EQ(runs, 1);
}

TEST(SourcePtr, DestroysTheSourceItOwns) {
  ContextPtr context(g_main_context_new());
  int runs = 0;
  SourcePtr source(g_idle_source_new());
  g_source_set_callback(
      source.get(),
      [](gpointer data) noexcept -> gboolean {
        ++*static_cast<int*>(data);
        return G_SOURCE_CONTINUE;
      },
      &runs, nullptr);
  g_source_attach(source.get(), context.get());
  g_main_context_iteration(context.get(), FALSE);
  EXPECT_EQ(runs, 1);
  GSource* raw = g_source_ref(source.get());
  source.reset();
  EXPECT_TRUE(g_source_is_destroyed(raw));
  g_source_unref(raw);
  drain(context.get());
  EXPECT_EQ(runs, 1);
}

TEST(SourcePtr, ReleaseDispatchedLeavesTheSourceToGlib) {
  ContextPtr context(g_main_context_new());
  struct State {
    SourcePtr source;
    int runs = 0;
  } state;
  state.source.reset(g_idle_source_new());
  g_source_set_callback(
      state.source.get(),
      [](gpointer data) noexcept -> gboolean {
        auto* s = static_cast<State*>(data);
        ++s->runs;
        release_dispatched(s->source);
        return G_SOURCE_REMOVE;
      },
      &state, nullptr);
  g_source_attach(state.source.get(), context.get());
  drain(context.get());
  EXPECT_EQ(state.runs, 1);
  EXPECT_EQ(state.source, nullptr);
}

}  // namespace
}  // namespace sipline::base
