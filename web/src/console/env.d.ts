// Vite turns CSS imports into injected styles.
declare module "*.css";
// The unit tests read the protocol document as text (`?raw`) to check the error codes.
declare module "*.md?raw" {
  const text: string;
  export default text;
}
