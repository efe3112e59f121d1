#include "sipline/base/glib_source.hpp"

#include <glib.h>

#include <utility>

namespace sipline::base {

void SourceDeleter::operator()(GSource* source) const noexcept {
  if (source) {
    g_source_destroy(source);
    g_source_unref(source);
  }
}

void release_dispatched(SourcePtr& source) noexcept {
  if (GSource* s = source.release()) g_source_unref(s);
}

DeferredCall::DeferredCall(GMainContext* context, std::function<void()> fn)
    : context_(g_main_context_ref(context ? context : g_main_context_default())), fn_(std::move(fn)) {}

DeferredCall::~DeferredCall() {
  source_.reset();
  g_main_context_unref(context_);
}

void DeferredCall::schedule() {
  if (source_) return;
  source_.reset(g_idle_source_new());
  g_source_set_callback(source_.get(), &DeferredCall::on_idle, this, nullptr);
  g_source_attach(source_.get(), context_);
}

int DeferredCall::on_idle(void* data) noexcept {
  auto* self = static_cast<DeferredCall*>(data);
  // Released before `fn_` runs, so that `fn_` can schedule the next run.
  release_dispatched(self->source_);
  self->fn_();
  return G_SOURCE_REMOVE;
}

}  // namespace sipline::base
