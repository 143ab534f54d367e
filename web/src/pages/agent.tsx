import { Desktop } from "../agent/desktop";
import { start } from "../lib/ui";
import "../agent/desktop.css";

void start("agent", "/agent", (me) => <Desktop me={me} />);
