#include "call/glib_timers.hpp"

#include <glib.h>

namespace sipline::gateway::call {

GlibTimers::~GlibTimers() {
  for (auto& [id, e] : entries_) g_source_remove(e->source);
}

base::TimerId GlibTimers::start(base::Millis delay, std::function<void()> fn) {
  const base::TimerId id = next_id_++;
  auto entry = std::make_unique<Entry>(Entry{this, id, std::move(fn)});
  entry->source = g_timeout_add(static_cast<guint>(std::max<long>(0, delay.count())), &GlibTimers::fire, entry.get());
  entries_.emplace(id, std::move(entry));
  return id;
}

void GlibTimers::cancel(base::TimerId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  g_source_remove(it->second->source);
  entries_.erase(it);
}

int GlibTimers::fire(void* data) noexcept {
  auto* entry = static_cast<Entry*>(data);
  GlibTimers* self = entry->owner;
  auto node = self->entries_.extract(entry->id);
  // The source is finished (G_SOURCE_REMOVE); the entry lives until fn returns.
  if (!node.empty()) node.mapped()->fn();
  return G_SOURCE_REMOVE;
}

}  // namespace sipline::gateway::call
