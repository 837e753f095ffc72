// Entry point of the consultant console, served by the desk at /console/.
import { render } from "preact";
import { App } from "./App";
import { lang } from "./i18n";
import "./console.css";

document.documentElement.lang = lang();
const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
