// The vendor bundle loads stylesheets as text (vendor.ts: asset/source); boot.tsx puts them in a <style>.
declare module '*.css' {
  const source: string;
  export default source;
}
