// Page entry: the flow feed and what hangs off it (session aggregates, ticker view), the market
// panels, the catalyst calendar, the header context and, for operators, the simulator drawer.

import { FlowTape } from "./flow.js";
import { MarketPanels } from "./market.js";
import { SessionTide } from "./tide.js";
import { TickerView } from "./ticker_view.js";
import { CatalystCalendar } from "./catalysts.js";
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
// Late-bound: the ticker view reads the feed and the quote board, which are built after it.
let flow = null;
let market = null;
const tickerView = new TickerView({
  flowRows: () => (flow ? flow.all() : []),
  priorClose: (symbol) => (market ? market.priorClose(symbol) : undefined),
});
const openTicker = (symbol, opener) => tickerView.open(symbol, opener);
const tide = new SessionTide({ onTicker: openTicker });

flow = new FlowTape({
  onState: linkState("link-flow"),
  onClock,
  onTicker: openTicker,
  onEvents: (rows) => {
    tide.add(rows);
    tickerView.onEvents(rows);
  },
});
flow.start();
market = new MarketPanels({ onState: linkState("link-market"), onClock, universe, onTicker: openTicker });
market.start();
new CatalystCalendar({ onSession: (s) => tide.setSession(s), onTicker: openTicker }).start();

if (document.body.dataset.admin === "1" && document.getElementById("gear")) {
  import("./drawer.js").then(({ ControlDrawer }) => new ControlDrawer().init());
}
