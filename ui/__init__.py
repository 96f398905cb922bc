"""The Gradio chat, a thin layer over the public functions of rag/."""
