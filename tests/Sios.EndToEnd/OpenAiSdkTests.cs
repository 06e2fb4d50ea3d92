using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Sios.EndToEnd;

/// <summary>The official OpenAI .NET SDK, unmodified, against SIOS: every answer's receipt verified and its commitments matched.</summary>
public sealed class OpenAiSdkTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    private (OpenAIClient Client, RecordingHandler Wire, HttpClient Http) Connect()
    {
        var wire = new RecordingHandler();
        var http = new HttpClient(wire) { Timeout = TimeSpan.FromMinutes(2) };
        var client = new OpenAIClient(new ApiKeyCredential(demo.AdminKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(demo.Url, "/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        return (client, wire, http);
    }

    [Fact]
    public async Task Chat_json_mode_models_and_embeddings_through_the_sdk_carry_receipts_that_verify()
    {
        var (client, wire, http) = Connect();
        using (http)
        {
            var chat = client.GetChatClient("clinical");
            ChatCompletion answer = await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 8 });
            Assert.Equal(ChatMessageRole.Assistant, answer.Role);
            Assert.True(answer.Usage.OutputTokenCount is > 0 and <= 8);
            var exchange = wire.Exchanges[^1];
            var entry = await Receipts.VerifyAnswerAsync(demo, exchange.Response.Headers, exchange.Request, exchange.Received.ToArray());
            Assert.Equal(answer.Usage.OutputTokenCount, entry.GetProperty("tokens").GetProperty("completion").GetInt32());

            ChatCompletion json = await client.GetChatClient("demo").CompleteChatAsync([new UserChatMessage("Answer in JSON")],
                new ChatCompletionOptions { MaxOutputTokenCount = 48, ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat() });
            Assert.StartsWith("{", json.Content[0].Text.TrimStart(), StringComparison.Ordinal);
            exchange = wire.Exchanges[^1];
            await Receipts.VerifyAnswerAsync(demo, exchange.Response.Headers, exchange.Request, exchange.Received.ToArray());

            var models = new List<string>();
            foreach (var model in (await client.GetOpenAIModelClient().GetModelsAsync()).Value)
            {
                models.Add(model.Id);
            }

            Assert.Equal(["clinical", "contracts", "demo", "demo-tools", "ledger"], models.Order());

            OpenAIEmbedding embedding = await client.GetEmbeddingClient("ledger").GenerateEmbeddingAsync("the record");
            Assert.Equal(64, embedding.ToFloats().Length);
            exchange = wire.Exchanges[^1];
            await Receipts.VerifyAnswerAsync(demo, exchange.Response.Headers, exchange.Request, exchange.Received.ToArray());
        }
    }

    [Fact]
    public async Task A_streamed_chat_through_the_sdk_ends_with_a_receipt_the_sdk_ignores_and_we_verify()
    {
        var (client, wire, http) = Connect();
        using (http)
        {
            var text = new StringBuilder();
            ChatTokenUsage? usage = null;
            await foreach (var update in client.GetChatClient("ledger").CompleteChatStreamingAsync(
                [new UserChatMessage("Tell me")], new ChatCompletionOptions { MaxOutputTokenCount = 6 }))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }

                usage ??= update.Usage;
            }

            Assert.NotNull(usage);
            var exchange = wire.Exchanges[^1];
            var raw = Encoding.UTF8.GetString(exchange.Received.ToArray());
            var marker = raw.IndexOf("\n: sios ", StringComparison.Ordinal);
            Assert.True(marker > 0, raw);
            using var comment = JsonDocument.Parse(raw[(marker + 1)..].Split('\n')[0][": sios ".Length..]);
            var entry = await Receipts.VerifyAsync(demo, comment.RootElement.GetProperty("index").GetInt64(),
                comment.RootElement.GetProperty("request_nonce").GetString()!, comment.RootElement.GetProperty("response_nonce").GetString()!,
                exchange.Request, Encoding.UTF8.GetBytes(raw[..(marker + 1)]));
            Assert.Equal(usage!.OutputTokenCount, entry.GetProperty("tokens").GetProperty("completion").GetInt32());
        }
    }
}
