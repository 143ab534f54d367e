// How a page says what happened: an error read out at once (role=alert), a success politely (role=status).
// Nothing is drawn when there is nothing to say.

export function ErrorText({ text, block = false }: { text: string; block?: boolean }) {
  if (!text) return null;
  return block ? (
    <p class="error small" role="alert">
      {text}
    </p>
  ) : (
    <span class="error" role="alert">
      {text}
    </span>
  );
}

export function StatusText({ text }: { text: string }) {
  if (!text) return null;
  return (
    <p class="ok-text small" role="status">
      {text}
    </p>
  );
}
