// The test host of the calendar view (tests/test_calendar_view.py): the official host side of MCP Apps, AppBridge
// from @modelcontextprotocol/ext-apps, bundled by esbuild into the page. It does what a host that renders apps does
// with this view: loads the ui:// resource in an iframe on another origin, answers ui/initialize with a host
// context, sends the tool input and the real tool result, and proxies the view's tools/call to the real server
// (through `window.forwardToolCall`, which the test exposes and which calls the server over MCP).
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

window.toolCalls = [];

window.startHost = async ({ viewUrl, hostContext, toolInput, toolResult }) => {
  const iframe = document.getElementById("view");
  const bridge = new AppBridge(
    null,
    { name: "ayrshare-calendar-test-host", version: "1" },
    { serverTools: {}, logging: {} },
    { hostContext },
  );
  bridge.oncalltool = async (params) => {
    window.toolCalls.push(params);
    return await window.forwardToolCall(params);
  };
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${height}px`;
  };
  bridge.onrequestdisplaymode = async ({ mode }) => {
    const granted = (hostContext.availableDisplayModes || []).includes(mode) ? mode : hostContext.displayMode;
    hostContext.displayMode = granted;
    return { mode: granted };
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  // Listen before the view loads, so its ui/initialize is not missed; the WindowProxy outlives the navigation.
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.src = viewUrl;
  await initialized;
  await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  window.bridge = bridge;
};

// What a host does when the person's settings change: a new theme, time zone or inset reaches the view.
window.changeContext = async (change) => {
  await window.bridge.sendHostContextChange(change);
};
