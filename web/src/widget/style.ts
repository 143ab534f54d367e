// The widget's own styles (inside its shadow root).
export const WIDGET_CSS = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; background: #0b62d6; color: #fff; border: none;
  border-radius: 999px; padding: 12px 20px; font-size: 15px; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.panel { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 360px; max-width: calc(100vw - 24px);
  height: 540px; max-height: calc(100vh - 40px); background: #fff; color: #1d2330; border-radius: 12px;
  box-shadow: 0 8px 30px rgba(0,0,0,.3); display: flex; flex-direction: column; overflow: clip; font-size: 14px; }
.panel[hidden], .launcher[hidden], .composer[hidden] { display: none; }
header { flex: none; display: flex; align-items: center; gap: 8px; padding: 10px 12px; background: #123a6b; color: #fff; }
header strong { flex: 1; }
header button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.6); border-radius: 6px; cursor: pointer; padding: 2px 8px; font-size: 13px; }
.messages { flex: 1 1 auto; min-height: 0; overflow-y: auto; padding: 10px; display: flex; flex-direction: column; gap: 6px; background: #f6f7fa; }
.msg { max-width: 85%; padding: 7px 10px; border-radius: 12px; display: grid; white-space: pre-wrap; word-wrap: break-word; }
.msg.bot, .msg.agent, .msg.system { align-self: flex-start; background: #fff; border: 1px solid #d8dde6; }
.msg.customer { align-self: flex-end; background: #0b62d6; color: #fff; }
.who { font-size: 12px; color: #5b6475; }
.options { display: flex; flex-wrap: wrap; gap: 6px; }
.options button { border: 1px solid #0b62d6; color: #0b62d6; background: #fff; border-radius: 999px; padding: 5px 12px; cursor: pointer; font-size: 13px; }
.options button:disabled { opacity: .5; cursor: default; }
.note { text-align: center; color: #5b6475; font-size: 13px; margin: 6px 0; }
.status { min-height: 18px; margin: 0; padding: 2px 12px; font-size: 12px; color: #5b6475; }
.composer { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #d8dde6; }
textarea { flex: 1; resize: none; border: 1px solid #8a93a3; border-radius: 8px; padding: 6px 8px; font-size: 14px; }
.send { background: #0b62d6; color: #fff; border: none; border-radius: 8px; padding: 6px 12px; cursor: pointer; }
.survey { background: #fff; border: 1px solid #d8dde6; border-radius: 10px; padding: 8px; }
.survey h2 { font-size: 14px; margin: 0 0 2px; }
.hint { font-size: 12px; color: #5b6475; margin: 0 0 8px; }
.problem { color: #b3261e; font-size: 13px; margin: 0 0 6px; }
.problem:empty { display: none; }
.send:disabled { opacity: .6; cursor: default; }
fieldset { border: none; margin: 0 0 6px; padding: 0; }
legend { font-size: 13px; margin-bottom: 4px; }
.scale { position: relative; display: flex; gap: 3px; flex-wrap: wrap; }
.scale input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.scale label { border: 1px solid #8a93a3; border-radius: 6px; padding: 3px 0; min-width: 25px; text-align: center; cursor: pointer; }
.scale input:checked + label { background: #0b62d6; color: #fff; border-color: #0b62d6; }
.scale input:focus-visible + label, button:focus-visible, textarea:focus-visible, .note:focus-visible { outline: 3px solid #f5a300; outline-offset: 1px; }
.ends { font-size: 12px; color: #5b6475; margin-top: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
