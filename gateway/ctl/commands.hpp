#pragma once
// The control socket's commands: status, lines, calls, users (registered
// SIP contacts), bans and unban (sources banned after failed
// authentication), phone (sim driver), reload. See README "Control socket" for the request and response shapes.
// Thread: control.
#include <functional>

#include <nlohmann/json.hpp>

#include "call/switchboard.hpp"
#include "config/config.hpp"
#include "registrar/registrar.hpp"
#include "sipline/base/result.hpp"
#include "sipline/drivers/sim_driver.hpp"

namespace sipline::gateway::ctl {

struct CommandContext {
  call::Switchboard& board;
  drivers::SimDriver* sim = nullptr;     // null unless the sim driver runs
  const config::Config* config = nullptr;
  std::function<base::Result<void>()> reload;
  registrar::Registrar* registrar = nullptr;  // null when there is none
};

nlohmann::json handle_request(CommandContext& ctx, const nlohmann::json& request);

}  // namespace sipline::gateway::ctl
