// Page entry: start the tapes, the header context and, for operators, the simulator drawer.

import { FlowTape } from "./flow.js";
import { MarketPanels } from "./market.js";
import { timeNY } from "./format.js";

const clock = document.getElementById("ctx-clock");
let latestTs = 0;
function onClock(ts) {
  if (ts > latestTs) {
    latestTs = ts;
    clock.textContent = timeNY(ts);
  }
}

function linkState(id) {
  const el = document.getElementById(id);
  return (state) => {
    el.dataset.state = state;
    el.title = state;
  };
}

const universe = (document.body.dataset.symbols || "").split(",").filter(Boolean);
new FlowTape({ onState: linkState("link-flow"), onClock }).start();
new MarketPanels({ onState: linkState("link-market"), onClock, universe }).start();

if (document.body.dataset.admin === "1" && document.getElementById("gear")) {
  import("./drawer.js").then(({ ControlDrawer }) => new ControlDrawer().init());
}
